"""Full-text search of the e-archive for staff (bizreg.archives.search describes tokens and queries).

Scope and visibility are terms of the one full-text query (facet tokens): the user's authorities, open
items only without archives.view_controlled_items, never 内部 items for a department viewer. The rows of
the page are checked once more against their current columns, so an item whose index is stale never
shows more than its row allows.

Ranking window: the query collects the newest RESULT_WINDOW matches (highest item id first, an index
walk the engine stops early; on PostgreSQL a walk over blocks of item ids) and ranks those —
on SQLite by bm25 computed here from the window's token text (idf from a sample of the newest items:
FTS5's bm25 would count each term over the whole index), on PostgreSQL by ts_rank. A query matching
fewer items is ranked over all of them; a broader one says
so and asks for more terms or a filter, so the cost of a query never grows with the size of the archive.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from bizreg.accounts.roles import role_codes_for
from bizreg.archives import search
from bizreg.archives.models import (
    ArchiveItem,
    ArchiveStatus,
    Classification,
    DigitizationStatus,
    DocType,
    ItemSource,
    OpenStatus,
    ScanPage,
)
from bizreg.archives.selectors.records import scan_pages_in_order
from bizreg.core.scoping import authority_ids_for

PAGE_SIZE = 25
HIGHLIGHT_MAX_WORDS = 10
HIGHLIGHT_MAX_LENGTH = 50
RESULT_WINDOW = 1000
# The PostgreSQL window: blocks always searched one by one, then at most this many more before the rest of
# the archive is searched in one step (measured at 1M items: 16 gave the lowest p95 of 4, 8, 16, 32, 64).
WINDOW_FIRST_BLOCKS, WINDOW_BLOCK_STEPS = 2, 16
_BM25_K1, _BM25_B = 1.2, 0.75  # FTS5's bm25 defaults
IDF_SAMPLE = 5_000  # newest items in which a term's share of rows is counted (SQLite ranking)
SEARCH_PERM = "archives.view_archiveitem"
CONTROLLED_PERM = "archives.view_controlled_items"
MIN_YEAR, MAX_YEAR = 1949, 2100
# Roles that see 内部 items when they hold the controlled-items permission; a department viewer does not.
_INTERNAL_ROLES = frozenset({"archivist", "manager"})

_HIT_FIELDS = (
    "archive",
    "archival_code",
    "doc_type",
    "title",
    "doc_date",
    "doc_number",
    "open_status",
    "classification",
    "source",
    "text",
    "archive__authority",
    "archive__enterprise_name",
    "archive__uscc",
    "archive__archival_code",
)
FILTER_KEYS = ("doc_type", "year_from", "year_to", "status", "uscc", "source", "digitization")


@dataclass
class SearchHit:
    item: ArchiveItem
    score: float
    snippet: SafeString
    page_number: int | None
    url: str


@dataclass
class SearchPage:
    query: search.ParsedQuery
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    capped: bool = False  # more matches than RESULT_WINDOW
    number: int = 1
    page_size: int = PAGE_SIZE
    notices: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return self.query.message

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


_ID_MARK = 987654321


def item_url_maker(needles: Sequence[str] = ()):
    """item id, page number → the item's page opened at the page image of the hit, the query's words
    marked on it (the records pages own the route; "" while they have none). The route is reversed once
    per result page, not per hit."""
    try:
        pattern = reverse("archives:item_detail", args=[_ID_MARK])
    except NoReverseMatch:
        return lambda item_id, page_number: ""
    marks = [("hl", n) for n in needles[:HIGHLIGHT_MAX_WORDS] if n]

    def make(item_id: int, page_number: int | None) -> str:
        url = pattern.replace(str(_ID_MARK), str(item_id))
        return f"{url}?{urlencode([('page', page_number), *marks])}" if page_number else url

    return make


def page_hit_boxes(page: ScanPage | None, needles: Sequence[str]) -> list[dict]:
    """The OCR lines of the page that hold one of the words, as boxes in percent of the page image (so
    they sit on the image at any display size)."""
    words = [n for n in needles[:HIGHLIGHT_MAX_WORDS] if n and len(n) <= HIGHLIGHT_MAX_LENGTH]
    if page is None or not words or not page.width or not page.height:
        return []
    boxes = []
    for x0, y0, x1, y1, text, *_score in page.ocr_boxes:
        if search.contains_hit(text, [search.normalize(w) for w in words]):
            boxes.append(
                {
                    "left": round(100 * x0 / page.width, 2),
                    "top": round(100 * y0 / page.height, 2),
                    "width": round(100 * (x1 - x0) / page.width, 2),
                    "height": round(100 * (y1 - y0) / page.height, 2),
                    "text": text,
                }
            )
    return boxes


def clean_filters(filters: dict | None) -> dict:
    """Validated filters (unknown keys ignored, blanks dropped); ValidationError per bad field."""
    filters = {k: v for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in (None, "")}
    errors: dict[str, list[str]] = {}
    choices = {
        "doc_type": DocType.values,
        "status": ArchiveStatus.values,
        "source": ItemSource.values,
        "digitization": DigitizationStatus.values,
    }
    for key, allowed in choices.items():
        if key in filters and filters[key] not in allowed:
            errors[key] = ["选项无效。"]
    for key in ("year_from", "year_to"):
        if key in filters:
            try:
                filters[key] = int(filters[key])
            except (TypeError, ValueError):
                errors[key] = ["请输入年份（四位数字）。"]
                continue
            if not MIN_YEAR <= filters[key] <= MAX_YEAR:
                errors[key] = [f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间。"]
    if not errors and filters.get("year_from", MIN_YEAR) > filters.get("year_to", MAX_YEAR):
        errors["year_to"] = ["截止年份不能早于起始年份。"]
    if "uscc" in filters:
        uscc = search.compact(str(filters["uscc"])).upper()
        if len(uscc) != 18:
            errors["uscc"] = ["统一社会信用代码应为 18 位。"]
        filters["uscc"] = uscc
    if errors:
        raise ValidationError(errors)
    return filters


def _visibility(user) -> tuple[list[list[str]], list[str], dict]:
    """(required facet groups, excluded facets, row checks) for what this user may find."""
    required: list[list[str]] = []
    excluded: list[str] = []
    checks: dict = {}
    if user.is_superuser:
        return required, excluded, checks
    authority_ids = authority_ids_for(user)
    required.append([search.facet("a", a) for a in authority_ids])
    checks["authority_ids"] = set(authority_ids)
    if not user.has_perm(CONTROLLED_PERM):
        required.append([search.facet("os", OpenStatus.OPEN)])
        excluded.append(search.facet("cl", Classification.INTERNAL))
        checks["open_only"] = checks["no_internal"] = True
    elif not _INTERNAL_ROLES.intersection(role_codes_for(user)):
        excluded.append(search.facet("cl", Classification.INTERNAL))
        checks["no_internal"] = True
    return required, excluded, checks


def _filter_facets(filters: dict) -> list[list[str]]:
    required: list[list[str]] = []
    for key, name in (("doc_type", "dt"), ("source", "src"), ("digitization", "dg"), ("uscc", "e")):
        if key in filters:
            required.append([search.facet(name, filters[key])])
    if "year_from" in filters or "year_to" in filters:
        first = filters.get("year_from", MIN_YEAR)
        last = filters.get("year_to", dt.date.today().year + 1)
        required.append([search.facet("y", year) for year in range(first, last + 1)])
    return required


def _where(status: str | None) -> str:
    """The WHERE clause of both steps: the full-text match, and the archive's status when filtered (the
    one filter that is not a facet: it changes with every loan, too often to reindex the items)."""
    if connection.vendor == "postgresql":
        row, match = "d.item_id", "d.search_vector @@ to_tsquery('simple', %s)"
    else:
        row, match = "archives_itemsearch_fts.rowid", "archives_itemsearch_fts MATCH %s"
    if not status:
        return match
    return (
        f"{match} AND EXISTS (SELECT 1 FROM archives_archiveitem i JOIN archives_archivefile a"
        f" ON a.id = i.archive_id WHERE i.id = {row} AND a.status = %s)"
    )


def _window(expression: search.Expression, status: str | None) -> list[int]:
    """Ids of the newest matches, at most RESULT_WINDOW + 1 (one more tells "there are more")."""
    if connection.vendor == "postgresql":
        return _window_in_id_blocks(expression, status)
    params = [expression.match] + ([status] if status else []) + [RESULT_WINDOW + 1]
    sql = f"SELECT rowid FROM archives_itemsearch_fts WHERE {_where(status)} ORDER BY rowid DESC LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _window_in_id_blocks(expression: search.Expression, status: str | None) -> list[int]:
    """PostgreSQL: the newest matches collected one block of item ids at a time, newest first. Each
    step adds the block's token (search.block_token) to the full-text query, so the GIN index intersects
    the match with the block and only rows of that block are fetched and rechecked (a phrase's
    adjacency is only in the row's tsvector). Asked for all matches at once, the engine fetches every
    match before it can sort by id. When the density seen in the first blocks says more than
    WINDOW_BLOCK_STEPS further blocks would be needed, the query is selective enough that one last step
    takes all older ids at once."""
    wanted = RESULT_WINDOW + 1
    ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(item_id) FROM archives_itemsearchdoc")
        top = cursor.fetchone()[0]
        if top is None:
            return ids
        upper, steps = top + 1, 0  # ids below `upper` are still to be searched
        while len(ids) < wanted and upper > 0:
            match, lower = expression.match, 0
            blockwise = steps < WINDOW_FIRST_BLOCKS or (
                _blocks_needed(wanted - len(ids), len(ids), top + 1 - upper) <= WINDOW_BLOCK_STEPS
            )
            if blockwise:
                match = f"({match}) & '{search.block_token(upper - 1)}'"
                lower = ((upper - 1) >> search.BLOCK_BITS) << search.BLOCK_BITS
            # The bound only drops ids an earlier step covered; `+ 0` keeps it out of the index
            # conditions, so the planner cannot prefer it to the block token.
            cursor.execute(
                f"SELECT d.item_id FROM archives_itemsearchdoc d WHERE {_where(status)} "
                "AND d.item_id + 0 < %s ORDER BY d.item_id DESC LIMIT %s",
                [match] + ([status] if status else []) + [upper, wanted - len(ids)],
            )
            ids += [row[0] for row in cursor.fetchall()]
            upper, steps = lower, steps + 1
    return ids


def _blocks_needed(still: int, found: int, covered: int) -> float:
    """Blocks that would hold `still` more matches at the density of `found` matches in `covered` ids."""
    if not found:
        return math.inf
    return still / (found / covered * (1 << search.BLOCK_BITS))


def _ranked(
    expression: search.Expression, clauses: list[search.Clause], window: list[int], offset: int, limit: int
) -> list[tuple[int, float]]:
    """[(item id, score)] of one page of the window, best first, scored on the user's terms only: the
    facet terms (authority, filters) already chose the window, and scoring them would make the engine
    count every row holding them (bm25's document frequencies), which is most of the archive."""
    if connection.vendor == "postgresql":
        # ts_rank over the window's tsvectors: measured at 100k, p50 7 ms against 47 ms for the
        # token-text ranking below, which reads the window's token text across the wire.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.item_id, ts_rank(d.search_vector, to_tsquery('simple', %s)) AS score "
                "FROM archives_itemsearchdoc d WHERE d.item_id = ANY(%s) "
                "ORDER BY score DESC, d.item_id DESC LIMIT %s OFFSET %s",
                [expression.rank, window, limit, offset],
            )
            return [(row[0], float(row[1])) for row in cursor.fetchall()]
    return _scored_in_python(clauses, window, offset, limit)


def _clause_patterns(clause: search.Clause) -> list[str]:
    """The token-text substrings (space-delimited) whose occurrences count as hits of a clause."""
    if isinstance(clause, search.Term):
        return [f" {clause.token} "]
    if isinstance(clause, search.Phrase):
        return [" " + " ".join(clause.tokens) + " "]
    return [pattern for option in clause.options for pattern in _clause_patterns(option)]


def _occurrences(tokens: str, pattern: str) -> int:
    """Occurrences of a pattern " a b " in token text (which starts with facet tokens, never searched
    for, so only its end needs a look of its own), overlapping ones included."""
    count = tokens.count(pattern) + tokens.endswith(pattern[:-1])
    # str.count skips overlapping matches: in "… 港口 港口 …" the two share the space between them.
    # Only a pattern that follows itself can overlap, in few rows: count those on a padded copy by hand.
    if count > 1 and (pattern + pattern[1:] in tokens or tokens.endswith(pattern + pattern[1:-1])):
        padded = f" {tokens} "
        count, at = 0, padded.find(pattern)
        while at >= 0:
            count += 1
            at = padded.find(pattern, at + 1)
    return count


def _clause_weights(clauses: list[search.Clause]) -> list[float]:
    """bm25's idf of each clause (FTS5's formula), its row count estimated from the newest IDF_SAMPLE
    items: FTS5's own bm25 counts the rows holding each term over the whole index, a scan of the term's
    whole doclist that grows with the archive (it made the slowest queries); the sample costs the same
    at any size and still tells a rare term (a name, an identifier) from wording most items hold."""
    with connection.cursor() as cursor:
        # The sample is the newest IDF_SAMPLE rows themselves, not an id range: ids have gaps (deleted
        # items, sequence values of rolled-back transactions), and a gap in the range would count as
        # rows without the term. The newest id stands for the row count (the idf's N) only.
        cursor.execute(
            "SELECT min(item_id), max(item_id), count(*) FROM "
            "(SELECT item_id FROM archives_itemsearchdoc ORDER BY item_id DESC LIMIT %s) newest_items",
            [IDF_SAMPLE],
        )
        oldest_sampled, newest, sample = cursor.fetchone()
        if not sample:
            return [1e-6] * len(clauses)
        weights = []
        for clause in clauses:
            sql = (
                "SELECT count(*) FROM archives_itemsearch_fts WHERE archives_itemsearch_fts MATCH %s "
                "AND rowid >= %s"
            )
            match = search._fts_clause(clause)
            cursor.execute(sql, [match, oldest_sampled])
            rows = cursor.fetchone()[0] * newest / sample
            weights.append(max(1e-6, math.log((newest - rows + 0.5) / (rows + 0.5))))
    return weights


def _scored_in_python(
    clauses: list[search.Clause], window: list[int], offset: int, limit: int
) -> list[tuple[int, float]]:
    """SQLite: the window ranked from its rows' token text by bm25 (FTS5's formula and defaults), with
    the idf of _clause_weights and the length in tokens against the window's average length."""
    patterns = [_clause_patterns(clause) for clause in clauses]
    weights = _clause_weights(clauses)
    marks = ", ".join(["%s"] * len(window))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT item_id, tokens FROM archives_itemsearchdoc WHERE item_id IN ({marks})", list(window)
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    lengths = [tokens.count(" ") + 1 for _item_id, tokens in rows]
    average = sum(lengths) / len(lengths)
    k1, b = _BM25_K1, _BM25_B
    scored = []
    for (item_id, tokens), length in zip(rows, lengths, strict=True):
        norm = k1 * (1 - b + b * length / average)
        score = 0.0
        for clause_patterns, weight in zip(patterns, weights, strict=True):
            frequency = 0
            for pattern in clause_patterns:
                frequency += _occurrences(tokens, pattern)
            score += weight * frequency * (k1 + 1) / (frequency + norm)
        scored.append((item_id, score))
    scored.sort(key=lambda pair: (-pair[1], -pair[0]))
    return scored[offset : offset + limit]


def _row_allowed(item: ArchiveItem, checks: dict) -> bool:
    if "authority_ids" in checks and item.archive.authority_id not in checks["authority_ids"]:
        return False
    if checks.get("open_only") and item.open_status != OpenStatus.OPEN:
        return False
    return not (checks.get("no_internal") and item.classification == Classification.INTERNAL)


def archive_search(
    *, user, query: str, filters: dict | None = None, page: int | str | None = 1, page_size: int = PAGE_SIZE
) -> SearchPage:
    """One page of the items matching `query` (all terms; "quoted" phrases adjacent) and `filters`
    that `user` may see, best first, each with a highlighted snippet and the page of its first hit."""
    if not user.is_authenticated or not user.has_perm(SEARCH_PERM):
        raise PermissionDenied("您没有检索电子档案的权限。")
    filters = clean_filters(filters)
    parsed = search.parse_query(query)
    result = SearchPage(query=parsed, page_size=page_size)
    if parsed.truncated:
        result.notices.append(
            f"检索词过长，已截取前 {search.MAX_QUERY_CHARS} 个字符、最多 {search.MAX_QUERY_TERMS} 个词。"
        )
    if parsed.is_empty:
        return result
    required, excluded, checks = _visibility(user)
    if any(not group for group in required):
        return result  # a user with no authority sees nothing
    required += _filter_facets(filters)
    expression = search.build_expression(
        parsed.clauses, required=required, excluded=excluded, vendor=connection.vendor
    )
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    # The window first (it is the count), then the page clamped into it.
    window = _window(expression, filters.get("status"))
    result.total = min(len(window), RESULT_WINDOW)
    result.capped = len(window) > RESULT_WINDOW
    if result.capped:
        result.notices.append(
            f"命中超过 {RESULT_WINDOW} 件，仅在最新的 {RESULT_WINDOW} 件中排序显示；请增加检索词或筛选条件。"
        )
    if not result.total:
        return result
    result.number = min(number, result.num_pages)
    rows = _ranked(
        expression, parsed.clauses, window[:RESULT_WINDOW], (result.number - 1) * page_size, page_size
    )
    result.hits = _hits(rows, parsed.needles, checks)
    return result


def _hits(rows: list[tuple[int, float]], needles: list[str], checks: dict) -> list[SearchHit]:
    ids = [item_id for item_id, _score in rows]
    # Only what a hit shows and checks: the result page stays cheap however wide the item rows grow.
    items = ArchiveItem.objects.select_related("archive").only(*_HIT_FIELDS).in_bulk(ids)
    pages: dict[int, list[str]] = {}
    scanned = [i for i in ids if i in items and items[i].source != ItemSource.BORN_DIGITAL]
    for item_id, text in scan_pages_in_order(scanned).values_list("item_id", "ocr_text"):
        pages.setdefault(item_id, []).append(text)
    hits = []
    item_url = item_url_maker(needles)
    for item_id, score in rows:
        item = items.get(item_id)
        if item is None or not _row_allowed(item, checks):
            continue
        page_number = search.first_hit_page(pages.get(item_id, ()), needles)
        hits.append(
            SearchHit(
                item=item,
                score=score,
                snippet=mark_safe(search.snippet(item.text, needles, title=item.title)),  # noqa: S308 — escaped
                page_number=page_number,
                url=item_url(item_id, page_number),
            )
        )
    return hits
