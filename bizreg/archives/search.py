"""Full-text search of the e-archive: the token text an item is indexed as, the query language, and the
highlighted snippet. Pure functions (no database); services/search_index.py writes the index and
selectors/search.py runs the queries.

Token text (ItemSearchDoc.tokens) — one string of space-separated tokens, each [0-9a-z] and CJK only, so
SQLite FTS5 (unicode61) and PostgreSQL's parser (to_tsvector 'simple') split it exactly at the spaces and
both engines see the same tokens:

1. facet tokens (`zzf…`): authority, document type, year, open status, classification, source,
   digitization state and the enterprise's USCC. Filters and the user's visibility are AND/NOT terms of
   the same full-text query, so a broad query over a million items is still one index intersection
   instead of a join per match;
2. identifiers whole (USCC, the item's and the archive's 档号, 文号), punctuation removed
   (Q0101-SS·2021-Y-DJK-0001 → q0101ss2021ydjk0001), so a pasted identifier is one exact term;
3. jieba search-mode tokens (cut_for_search: 营业执照 → 营业 执照 营业执照) of title, 文号, 责任者,
   主题词, enterprise name, USCC, 档号 and the full text, after NFKC (full-width → half-width) and lower
   case; a token with inner punctuation (2021-y-djk) is split into its parts.

Queries are segmented the same way: every term must match (AND); a term in quotes is a phrase (its
tokens adjacent: FTS5 "a b", PostgreSQL a <-> b); a term with inner punctuation (an identifier) matches
whole or as the phrase of its parts.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bizreg.consultation.answering.text import REGISTRATION_TERMS
from bizreg.core.segmentation import new_jieba_tokenizer

# Archive vocabulary jieba's general dictionary splits; kept whole (their parts still come from search mode).
ARCHIVE_TERMS: tuple[str, ...] = (
    "档号",
    "文号",
    "责任者",
    "主题词",
    "股东会决议",
    "股东决定",
    "董事会决议",
    "准予登记通知书",
    "变更登记通知书",
    "登记申请书",
    "住所使用证明",
    "任职文件",
    "主体资格证明",
    "清算报告",
    "商事公示",
    "移交清单",
    "著录标引",
)

MAX_QUERY_CHARS = 200  # longer input is cut here (with a notice): nobody types more into a search box
MAX_QUERY_TERMS = 16  # clauses after segmentation; more only slows the query without narrowing it
FACET_PREFIX = "zzf"
SNIPPET_BEFORE = 40
SNIPPET_LENGTH = 180
_SNIPPET_SCAN_LIMIT = 300_000  # characters of an item's text searched for the first hit

# jieba splits its input into blocks at every character outside this class and segments each block on
# its own, so splitting here first (and caching per block) gives exactly jieba's tokens.
_BLOCK_SPLIT = re.compile(r"[^\u4e00-\u9fd5a-z0-9+#&._%\-]+")
_PART = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_INNER_PUNCT = re.compile(r"[0-9a-z\u3400-\u9fff][^0-9a-z\u3400-\u9fff\s]+[0-9a-z\u3400-\u9fff]")
_ALNUM = re.compile(r"[0-9a-z]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "「": '"', "」": '"', "『": '"', "』": '"'})

_tokenizer = None
_tokenizer_lock = threading.Lock()
_BLOCK_CACHE_LIMIT = 200_000
_block_cache: dict[str, tuple[str, ...]] = {}


def _jieba():
    """This module's own jieba Tokenizer (never jieba's global one, which other code may tune): index and
    query must segment identically, whatever else runs in the process."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                tokenizer = new_jieba_tokenizer()
                for word in (*REGISTRATION_TERMS, *ARCHIVE_TERMS):
                    tokenizer.add_word(word, freq=tokenizer.suggest_freq(word, tune=False))
                _tokenizer = tokenizer
    return _tokenizer


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation → half-width) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _block_tokens(block: str, *, search_mode: bool) -> tuple[str, ...]:
    key = block if search_mode else "\x00" + block
    found = _block_cache.get(key)
    if found is None:
        tokenizer = _jieba()
        words = tokenizer.cut_for_search(block, HMM=False) if search_mode else tokenizer.cut(block, HMM=False)
        found = tuple(part for word in words for part in _PART.findall(word))
        if len(_block_cache) >= _BLOCK_CACHE_LIMIT:
            _block_cache.clear()  # registration papers repeat their printed wording: the cache refills fast
        _block_cache[key] = found
    return found


def segment(text: str, *, search_mode: bool = True) -> list[str]:
    """Tokens of normalised text: jieba search mode (sub-words too) or precise mode; punctuation dropped."""
    out: list[str] = []
    for block in _BLOCK_SPLIT.split(normalize(text)):
        if block:
            out.extend(_block_tokens(block, search_mode=search_mode))
    return out


def compact(text: str) -> str:
    """An identifier as one token: normalised, punctuation and spaces removed."""
    return "".join(_PART.findall(normalize(text)))


def facet(name: str, value) -> str:
    return FACET_PREFIX + name + compact(str(value))


# PostgreSQL only: item ids in aligned blocks of 2 ** BLOCK_BITS; the item's vector holds its block's token,
# added by the database from the item id (migration 0005 declares the same size), never by document_tokens.
BLOCK_BITS = 14


def block_token(item_id: int) -> str:
    """The token of the id block holding `item_id`."""
    return facet("k", item_id >> BLOCK_BITS)


def facet_tokens(
    *,
    authority_id: int,
    doc_type: str,
    year: int | None,
    open_status: str,
    classification: str,
    source: str,
    digitization: str,
    uscc: str,
) -> list[str]:
    return [
        facet("a", authority_id),
        facet("dt", doc_type),
        facet("y", year if year else "none"),
        facet("os", open_status),
        facet("cl", classification),
        facet("src", source),
        facet("dg", digitization),
        facet("e", uscc or "none"),
    ]


def document_tokens(*, facets: Sequence[str], identifiers: Iterable[str], texts: Iterable[str]) -> str:
    """The token text of one item (see the module docstring)."""
    tokens = list(facets)
    tokens.extend(token for token in (compact(i) for i in identifiers) if token)
    for text in texts:
        if text:
            tokens.extend(token for token in segment(text) if not token.startswith(FACET_PREFIX))
    return " ".join(tokens)


# --- the query language ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    token: str


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Term | Phrase, ...]


Clause = Term | Phrase | AnyOf


@dataclass
class ParsedQuery:
    text: str  # what was searched for (normalised, possibly truncated)
    clauses: list[Clause] = field(default_factory=list)
    needles: list[str] = field(default_factory=list)  # compact strings to highlight, longest first
    truncated: bool = False
    message: str = ""  # why there is nothing to search for

    @property
    def is_empty(self) -> bool:
        return not self.clauses


def _phrase_or_term(tokens: Sequence[str]) -> Term | Phrase | None:
    tokens = tuple(t for t in tokens if not t.startswith(FACET_PREFIX))
    if not tokens:
        return None
    return Term(tokens[0]) if len(tokens) == 1 else Phrase(tokens)


def parse_query(raw: str) -> ParsedQuery:
    """The user's search box text → AND-ed clauses, with the notices the page shows."""
    raw = raw or ""
    truncated = len(raw) > MAX_QUERY_CHARS
    text = normalize(raw[:MAX_QUERY_CHARS]).translate(_QUOTES)
    parsed = ParsedQuery(text=" ".join(text.split()), truncated=truncated)
    if not parsed.text:
        parsed.message = "请输入检索词（企业名称、统一社会信用代码、档号、文号或正文中的词语）。"
        return parsed
    phrases = re.findall(r'"([^"]*)"', text)
    rest = re.sub(r'"[^"]*"', " ", text).replace('"', " ")
    clauses: list[Clause] = []
    needles: list[str] = []
    for phrase in phrases:
        clause = _phrase_or_term(segment(phrase))
        if clause is not None:
            clauses.append(clause)
            needles.append(compact(phrase))
    for word in rest.split():
        # An identifier (USCC, 档号, 文号) carries digits or letters; Chinese words joined by punctuation
        # (公司，章程) are separate terms.
        if _INNER_PUNCT.search(word) and _ALNUM.search(word):
            whole = compact(word)
            options: list[Term | Phrase] = [Term(whole)] if not whole.startswith(FACET_PREFIX) else []
            parts = _phrase_or_term(segment(word))
            if parts is not None and parts not in options:
                options.append(parts)
            if options:
                clauses.append(options[0] if len(options) == 1 else AnyOf(tuple(options)))
                needles.append(whole)
            continue
        # Precise-mode words suffice for plain terms: the index holds every search-mode sub-word too.
        for token in segment(word, search_mode=False):
            if not token.startswith(FACET_PREFIX):
                clauses.append(Term(token))
                needles.append(token)
    unique: list[Clause] = []
    for clause in clauses:
        if clause not in unique:
            unique.append(clause)
    if len(unique) > MAX_QUERY_TERMS:
        unique = unique[:MAX_QUERY_TERMS]
        parsed.truncated = True
    parsed.clauses = unique
    parsed.needles = sorted({n for n in needles if n}, key=len, reverse=True)
    if not unique:
        parsed.message = "检索词只有标点或符号，请输入文字、数字或编号。"
    return parsed


def _fts_clause(clause: Clause) -> str:
    if isinstance(clause, Term):
        return f'"{clause.token}"'
    if isinstance(clause, Phrase):
        return '"' + " ".join(clause.tokens) + '"'
    return "(" + " OR ".join(_fts_clause(option) for option in clause.options) + ")"


def _pg_clause(clause: Clause) -> str:
    if isinstance(clause, Term):
        return f"'{clause.token}'"
    if isinstance(clause, Phrase):
        return "(" + " <-> ".join(f"'{t}'" for t in clause.tokens) + ")"
    return "(" + " | ".join(_pg_clause(option) for option in clause.options) + ")"


@dataclass(frozen=True)
class Expression:
    """A full-text query in both dialects: `match` for filtering, `rank` (the user's terms only) for
    scoring, so facet terms never weigh in the ranking."""

    match: str
    rank: str


def build_expression(
    clauses: Sequence[Clause],
    *,
    required: Sequence[Sequence[str]] = (),
    excluded: Sequence[str] = (),
    vendor: str,
) -> Expression:
    """AND of the clauses, of each group of `required` facet tokens (any one of the group) and NOT each
    `excluded` token. Tokens are [0-9a-z CJK] only, so quoting them needs no escaping."""
    if vendor == "postgresql":
        user = " & ".join(_pg_clause(c) for c in clauses)
        parts = [f"({user})"]
        parts += ["(" + " | ".join(f"'{t}'" for t in group) + ")" for group in required]
        parts += [f"!'{t}'" for t in excluded]
        return Expression(match=" & ".join(parts), rank=user)
    user = " AND ".join(_fts_clause(c) for c in clauses)
    match = f"({user})"
    for group in required:
        match += " AND (" + " OR ".join(f'"{t}"' for t in group) + ")"
    for token in excluded:
        match += f' NOT "{token}"'
    return Expression(match=match, rank=user)


# --- snippets --------------------------------------------------------------------------------------------


def _needle_pattern(needles: Sequence[str]) -> re.Pattern | None:
    # Between the characters of a needle the text may have spaces or punctuation (OCR line breaks, 〔〕
    # in a 文号): allow a few.
    alternatives = ["[\\W_]{0,3}".join(re.escape(ch) for ch in needle) for needle in needles if needle]
    return re.compile("|".join(alternatives)) if alternatives else None


def _normalized_with_map(text: str) -> tuple[str, list[int] | None]:
    """The normalised text and, when normalisation changed its length, the original index of each of its
    characters (None: the same positions)."""
    normalized = normalize(text)
    if len(normalized) == len(text):
        return normalized, None
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for out in normalize(ch):
            chars.append(out)
            index.append(i)
    return "".join(chars), index


def find_hits(text: str, needles: Sequence[str]) -> list[tuple[int, int]]:
    """Spans (in `text`) of the needles, in order, not overlapping."""
    needles = [n for n in needles if n]
    if not needles or not text:
        return []
    scanned = text[:_SNIPPET_SCAN_LIMIT]
    normalized, index = _normalized_with_map(scanned)
    # The needles as written first (a plain alternation is fast); the pattern that lets punctuation and
    # spaces sit between their characters only when that finds nothing.
    pattern = re.compile("|".join(re.escape(n) for n in needles))
    if not pattern.search(normalized):
        pattern = _needle_pattern(needles)
    spans = []
    for m in pattern.finditer(normalized):
        if m.end() == m.start():
            continue
        if index is None:
            spans.append((m.start(), m.end()))
        else:
            spans.append((index[m.start()], index[m.end() - 1] + 1))
    return spans


def contains_hit(text: str, needles: Sequence[str]) -> bool:
    if not text:
        return False
    normalized = normalize(text[:_SNIPPET_SCAN_LIMIT])
    if any(n and n in normalized for n in needles):
        return True
    pattern = _needle_pattern(needles)
    return bool(pattern and pattern.search(normalized))


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """HTML: `text` escaped, each span wrapped in <mark>."""
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out.append(html.escape(text[at:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def snippet(text: str, needles: Sequence[str], *, title: str = "") -> str:
    """An HTML snippet cut around the first hit in the text (else the title), hits marked."""
    text = " ".join((text or "").split())
    spans = find_hits(text, needles)
    if not spans:
        title_spans = find_hits(title, needles)
        if title_spans or not text:
            return highlight(title, title_spans)
        cut = text[:SNIPPET_LENGTH]
        return html.escape(cut) + ("…" if len(text) > len(cut) else "")
    start = max(0, spans[0][0] - SNIPPET_BEFORE)
    end = min(len(text), start + SNIPPET_LENGTH)
    inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
    body = highlight(text[start:end], inside)
    return ("…" if start else "") + body + ("…" if end < len(text) else "")


def first_hit_page(pages: Iterable[str], needles: Sequence[str]) -> int | None:
    """1-based number of the first page (OCR texts in page order) holding a hit."""
    for number, page_text in enumerate(pages, start=1):
        if contains_hit(page_text, needles):
            return number
    return None
