"""archive_search: p95 of full-text queries over the e-archive (issue 6).

Data: 100,000 (quick) or 1,000,000 (full) archive items of about 1 KB of UTF-8 text each (≈ 340 CJK
characters: registration-form wording with names, addresses, business scope, amounts, identifiers),
generated from a vocabulary with a seeded RNG, 10 items per archive file. Rows are written raw (COPY on
PostgreSQL, executemany on SQLite) into the project's tables; the token text of every item comes from the
project's own indexing code (services.search_index.item_search_tokens, jieba search mode), and the
engine's index is the one the migrations declare (SQLite: 0004's FTS5 filled by its triggers; PostgreSQL:
0005's generated tsvector column with the id-block token, its GIN index built after the load as a bulk
load would).

Queries: 200, each of 1–3 vocabulary words found in the text of a random item (so none comes back empty by
construction); every fourth one a quoted phrase, every third one with a filter that item satisfies
(document type, year range or source). Each runs once untimed (warm-up), then timed.
Project: `selectors.search.archive_search(user=<superuser>, query, filters, page=1)` — parse, window,
rank, 25 items with snippets and hit pages. Reference: the bare engine query over the same token text and
the same match expression (facet terms included): SQLite `SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY
rank LIMIT 25`, PostgreSQL `SELECT item_id … WHERE search_vector @@ q ORDER BY ts_rank(…) DESC LIMIT 25`.
ratio = project p95 ÷ reference p95. Goal: project p95 < 100 ms at 1M. After the timed pass, one more
pass times the selector's steps (window, ranked, hits with snippets) and logs the 10 slowest queries.

Loading: the token text is made by 2 pool processes while this one generates the next rows; rows and
token text are cached in bench/out/archive_search-<size>-<seed>-<hash>.jsonl.gz (git-ignored), so a
later run only writes them (cache_path says what the hash covers; delete the file to force a rebuild).

    python -m bench.archive_search --backend sqlite --size quick
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import hashlib
import inspect
import itertools
import json
import multiprocessing
import random
import time
from pathlib import Path

from bench.common import (
    backend_args,
    demo_authority,
    emit,
    latency_figures,
    log,
    machine,
    setup_django,
    throwaway_database,
)

SIZES = {"quick": 100_000, "full": 1_000_000}
ITEMS_PER_ARCHIVE = 10
QUERIES = 200
TEXT_BYTES = 1000
CHUNK = 5_000
TOKENIZE_PROCESSES = 2
TOKENIZE_CHUNK = 2_000
CACHE_PROBE = 500  # items whose token text, made afresh, is part of the cache file's name


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建红梅琳斌宇浩凯鹏飞晨欣怡思雨嘉俊婷子涵博文轩睿泽"
)
TRADE = _words(
    "海港 南沙 明珠 蕉门 黄阁 横沥 万顷 龙穴 珠江 伶仃 虎门 庆盛 灵山 榄核 大岗 东涌 金洲 鸿图 瑞丰 嘉禾 "
    "华信 恒通 永盛 汇丰 宏达 鼎盛 新程 启航 智远 云帆 海纳 远洋 星河 锦绣 天成 德信 和泰 安达 润泽 博雅 "
    "卓越 凯旋 东方 南方 祥云 福瑞 长青 盛世 创新 合众 信达 联创 优品 优选 迅捷 极光 海韵 蓝海 沧海 晴川"
)
INDUSTRY = _words(
    "科技 贸易 物流 供应链 实业 投资 餐饮 建筑工程 电子商务 国际货运代理 船舶服务 文化传播 医药 新能源"
)
ROADS = _words(
    "进港大道 港前大道 环市大道 凤凰大道 海滨路 金隆路 黄阁大道 蕉门路 双山大道 金岭北路 市南路 "
    "南沙大道 明珠湾路 横沥大道 灵新大道 庆盛大道 港城路 龙穴大道 海港大道 丰泽东路"
)
SCOPE = _words(
    "技术服务 技术开发 技术咨询 软件开发 信息系统集成服务 国际货物运输代理 普通货物仓储服务 "
    "货物进出口 技术进出口 企业管理咨询 会议及展览服务 广告设计 市场营销策划 日用百货销售 "
    "食品销售 餐饮服务 道路货物运输 船舶修理 海洋工程装备制造 新材料技术研发 供应链管理服务 "
    "医疗器械销售 化妆品零售 服装服饰批发 建筑材料销售 机械设备租赁 物业管理 停车场服务 "
    "人工智能应用软件开发 集成电路设计 跨境电子商务 报关业务 报检业务 船舶代理 水上运输设备租赁"
)
BOILERPLATE = (
    "根据《中华人民共和国公司法》及有关法律法规的规定，制定本章程",
    "本公司依法登记注册，具有独立法人资格",
    "股东以其认缴的出资额为限对公司承担责任",
    "公司以其全部财产对公司的债务承担责任",
    "股东会由全体股东组成，是公司的权力机构",
    "公司设执行董事一名，由股东会选举产生",
    "公司不设监事会，设监事一人",
    "经营范围中属于法律法规规定须经批准的项目，应当依法经过批准后方可经营",
    "申请人承诺所提交的文件、证件真实有效",
    "公司营业期限为长期，自营业执照签发之日起计算",
    "本章程自公司设立登记之日起生效",
    "公司的法定代表人由执行董事担任",
    "有关材料齐全，符合法定形式，准予登记",
    "请于收到本通知书之日起领取营业执照",
    "股东应当按期足额缴纳公司章程中规定的各自所认缴的出资额",
    "公司住所变更应当在迁入新住所前申请变更登记",
    "本决议经全体股东签字后生效",
    "同意选举为公司执行董事",
    "委托代理人办理公司设立登记相关事宜",
    "住所使用证明材料真实有效，产权清晰",
)
DOC_TYPES = (
    ("application", "公司登记（备案）申请书"),
    ("articles", "公司章程"),
    ("resolution", "股东会决议"),
    ("identity", "股东身份证明"),
    ("appointment", "董事、监事、经理任职文件"),
    ("premises", "住所使用证明"),
    ("notice_approval", "准予设立登记通知书"),
    ("notice_change", "准予变更登记通知书"),
)
SOURCES = ("paper", "paper", "paper", "born_digital")


def _vocabulary() -> list[str]:
    """Words a user would search for: names, trade names, roads, business scope, form wording."""
    rng = random.Random(11)
    names = {rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))) for _ in range(400)}
    wording = ["章程", "股东会", "执行董事", "法定代表人", "认缴出资", "营业执照", "监事", "住所", "变更登记"]
    return sorted(names) + TRADE + INDUSTRY + ROADS + SCOPE + wording


class Generator:
    """Registration-like items from the vocabulary, deterministic for a seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2))))

    def enterprise(self) -> str:
        return f"广州{self.rng.choice(TRADE)}{self.rng.choice(TRADE)}{self.rng.choice(INDUSTRY)}有限公司"

    def text(self, enterprise: str, uscc: str) -> str:
        rng = self.rng
        parts = [f"企业名称：{enterprise}", f"统一社会信用代码：{uscc}"]
        size = sum(len(p.encode()) for p in parts)
        while size < TEXT_BYTES:
            kind = rng.randrange(6)
            if kind == 0:
                part = f"股东：{self.name()}，认缴出资额：{rng.randrange(1, 500)}万元，出资方式：货币"
            elif kind == 1:
                road, number, room = rng.choice(ROADS), rng.randrange(1, 300), rng.randrange(101, 2000)
                part = f"住所：广州市南沙区{road}{number}号{room}房"
            elif kind == 2:
                part = "经营范围：" + "；".join(rng.sample(SCOPE, 3))
            elif kind == 3:
                part = f"法定代表人：{self.name()}，职务：执行董事兼总经理"
            else:
                part = rng.choice(BOILERPLATE)
            parts.append(part)
            size += len(part.encode()) + 3
        return "。".join(parts) + "。"


def _uscc(rng: random.Random) -> str:
    return "91440115" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=10))


def _constant_columns(model, varying: set[str], connection) -> tuple[list[str], list]:
    from django.utils import timezone

    now = timezone.now()
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.attname in varying:
            continue
        value = now if f.attname in ("created_at", "updated_at") else f.get_default()
        names.append(f.column)
        values.append(f.get_db_prep_save(value, connection))
    return names, values


def _write(connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


SEED = 20261202
CACHE_DIR = Path(__file__).resolve().parent / "out"
_ARCHIVE_FIELDS = (
    "id",
    "archival_code",
    "year",
    "enterprise_name",
    "uscc",
    "fonds_code",
    "organization_code",
    "status",
)
_ITEM_FIELDS = (
    "id",
    "archive_id",
    "item_number",
    "archival_code",
    "doc_type",
    "title",
    "responsible_party",
    "doc_date",
    "doc_number",
    "pages",
    "open_status",
    "classification",
    "source",
    "digitization",
    "text",
)


def _generate(count: int):
    """(archive values, item values) per item, in item order, deterministic for SEED. The archive values
    repeat for each of its items (the tokeniser needs them with every item)."""
    gen = Generator(SEED)
    archive: tuple = ()
    for n in range(count):
        if n % ITEMS_PER_ARCHIVE == 0:
            archive_id = n // ITEMS_PER_ARCHIVE + 1
            year = gen.rng.randrange(2000, 2025)
            code = f"Q0115-SS·{year}-Y-DJK-{archive_id:07d}"
            archive = (archive_id, code, year, gen.enterprise(), _uscc(gen.rng), "Q0115", "DJK", "shelved")
        number = n % ITEMS_PER_ARCHIVE + 1
        doc_type, title = DOC_TYPES[gen.rng.randrange(len(DOC_TYPES))]
        year = archive[2]
        doc_date = dt.date(year, 1 + gen.rng.randrange(12), 1 + gen.rng.randrange(28))
        doc_number = (
            f"穗南市监内字〔{year}〕第{gen.rng.randrange(1, 99999)}号"
            if doc_type.startswith("notice")
            else ""
        )
        pages = gen.rng.randrange(1, 6)
        open_status = "open" if gen.rng.random() < 0.6 else "controlled"
        classification = "internal" if gen.rng.random() < 0.05 else "none"
        source = gen.rng.choice(SOURCES)
        text = gen.text(archive[3], archive[4])
        item = (
            n + 1,
            archive[0],
            number,
            f"{archive[1]}-{number:04d}",
            doc_type,
            title,
            archive[3],
            doc_date,
            doc_number,
            pages,
            open_status,
            classification,
            source,
            "digitized",
            text,
        )
        yield archive, item


def _tokenize_chunk(authority_id: int, records: list[tuple[tuple, tuple]]) -> list[str]:
    """The project's token text of each item (runs in a pool worker; no database access: the archive is
    attached as an unsaved instance)."""
    from bizreg.archives.models import ArchiveFile, ArchiveItem
    from bizreg.archives.services.search_index import item_search_tokens

    out = []
    archive = None
    for archive_values, item_values in records:
        if archive is None or archive.id != archive_values[0]:
            archive = ArchiveFile(
                authority_id=authority_id, **dict(zip(_ARCHIVE_FIELDS, archive_values, strict=True))
            )
        fields = dict(zip(_ITEM_FIELDS, item_values, strict=True))
        del fields["archive_id"]
        out.append(item_search_tokens(ArchiveItem(archive=archive, **fields)))
    return out


def cache_path(count: int, authority_id: int) -> Path:
    """Where generated rows and their token text are kept between runs: named by size, seed and a hash
    of what decides them — the generator's source and vocabulary, and the token text the project's
    indexing code makes now of the first CACHE_PROBE items (so a tokeniser change that alters tokens
    makes a new file, while a refactoring that keeps them does not)."""
    import jieba

    digest = hashlib.sha256()
    for obj in (Generator, _uscc, _generate):
        digest.update(inspect.getsource(obj).encode())
    constants = (SURNAMES, GIVEN, TRADE, INDUSTRY, ROADS, SCOPE, BOILERPLATE, DOC_TYPES, SOURCES)
    digest.update(repr((constants, TEXT_BYTES, ITEMS_PER_ARCHIVE, authority_id, jieba.__version__)).encode())
    probe = list(itertools.islice(_generate(count), CACHE_PROBE))
    digest.update("\n".join(_tokenize_chunk(authority_id, probe)).encode())
    return CACHE_DIR / f"archive_search-{count}-{SEED}-{digest.hexdigest()[:12]}.jsonl.gz"


def _records_from_cache(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            archive, item, tokens = json.loads(line)
            item[7] = dt.date.fromisoformat(item[7])
            yield tuple(archive) if archive else None, tuple(item), tokens


def _records_generated(count: int, authority_id: int, path: Path, timings: dict):
    """Generate and tokenise (2 pool processes; this process generates the next chunks meanwhile),
    writing the cache file as it goes; it is renamed into place only when complete."""
    from django.db import connections

    from bizreg.archives import search

    search._jieba()  # load the dictionary once, before the fork
    connections.close_all()  # the workers must not share this process's database connection
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    pending: collections.deque = collections.deque()
    source = _generate(count)
    context = multiprocessing.get_context("fork")
    with (
        context.Pool(TOKENIZE_PROCESSES) as pool,
        gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as out,
    ):

        def submit() -> bool:
            t = time.perf_counter()
            records = list(itertools.islice(source, TOKENIZE_CHUNK))
            timings["generate"] += time.perf_counter() - t
            if records:
                pending.append((records, pool.apply_async(_tokenize_chunk, (authority_id, records))))
            return bool(records)

        for _ in range(TOKENIZE_PROCESSES + 1):
            submit()
        while pending:
            records, result = pending.popleft()
            t = time.perf_counter()
            tokens = result.get()
            timings["tokenize_wait"] += time.perf_counter() - t
            for (archive, item), text in zip(records, tokens, strict=True):
                first = item[2] == 1
                out.write(
                    json.dumps(
                        [archive if first else None, [*item[:7], item[7].isoformat(), *item[8:]], text]
                    )
                )
                out.write("\n")
                yield (archive if first else None), item, text
            submit()
    tmp.rename(path)


def load(count: int, authority) -> dict:
    """Archives, items and their search docs for `count` items; returns timings. Rows and token text come
    from the cache file when a previous run made it, else are generated and tokenised (and cached)."""
    from django.db import connection, transaction

    from bizreg.archives.models import ArchiveFile, ArchiveItem
    from bizreg.archives.models_search import ItemSearchDoc

    a_cols, a_const = _constant_columns(ArchiveFile, set(_ARCHIVE_FIELDS) | {"authority_id"}, connection)
    i_cols, i_const = _constant_columns(ArchiveItem, set(_ITEM_FIELDS), connection)
    updated_at = i_const[i_cols.index("updated_at")]
    a_names = [*_ARCHIVE_FIELDS[:5], "authority_id", *_ARCHIVE_FIELDS[5:]]
    pg = connection.vendor == "postgresql"
    path = cache_path(count, authority.id)
    cached = path.exists()
    timings = {"generate": 0.0, "tokenize_wait": 0.0, "write": 0.0}
    log(f"  {'reading cached' if cached else 'generating and tokenising (cached to)'} {path.name}")
    records = _records_from_cache(path) if cached else _records_generated(count, authority.id, path, timings)
    if pg:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS archives_itemsearch_gin")
    archive_rows, item_rows, doc_rows = [], [], []

    def flush():
        t = time.perf_counter()
        with transaction.atomic():
            _write(connection, "archives_archivefile", a_names + a_cols, archive_rows)
            _write(connection, "archives_archiveitem", list(_ITEM_FIELDS) + i_cols, item_rows)
            _write(
                connection,
                "archives_itemsearchdoc",
                ["item_id", "authority_id", "tokens", "updated_at"],
                doc_rows,
            )
        timings["write"] += time.perf_counter() - t
        archive_rows.clear(), item_rows.clear(), doc_rows.clear()

    t_all = time.perf_counter()
    for n, (archive, item, tokens) in enumerate(records):
        if archive:
            archive_rows.append((*archive[:5], authority.id, *archive[5:], *a_const))
        item_rows.append((*item, *i_const))
        doc_rows.append((item[0], authority.id, tokens, updated_at))
        if len(item_rows) >= CHUNK:
            flush()
        if (n + 1) % 100_000 == 0:
            log(
                f"  {n + 1} items, {time.perf_counter() - t_all:.0f}s (generate {timings['generate']:.0f}, "
                f"waiting for tokens {timings['tokenize_wait']:.0f}, write {timings['write']:.0f})"
            )
    if item_rows:
        flush()
    t = time.perf_counter()
    with connection.cursor() as cursor:
        if pg:
            cursor.execute(
                "CREATE INDEX archives_itemsearch_gin ON archives_itemsearchdoc USING gin (search_vector)"
            )
            cursor.execute("SELECT setval(pg_get_serial_sequence('archives_archiveitem', 'id'), %s)", [count])
        cursor.execute("ANALYZE")
    finish_s = time.perf_counter() - t
    assert ItemSearchDoc.objects.count() == count
    return {
        "from_cache": cached,
        "generate_seconds": round(timings["generate"], 1),
        "tokenize_wait_seconds": round(timings["tokenize_wait"], 1),
        "write_seconds": round(timings["write"], 1),
        "index_finish_seconds": round(finish_s, 1),
        "load_seconds": round(time.perf_counter() - t_all, 1),
    }


def queries(rng: random.Random, count: int) -> list[tuple[str, dict]]:
    """Queries a user could have written after reading an item: 1–3 vocabulary words found in a random
    item's text (so every query has at least that item to find), every fourth one a quoted phrase, every
    third one with a filter the item satisfies (its type, a year range around its date, its source)."""
    from bizreg.archives.models import ArchiveItem

    vocab = _vocabulary()
    out = []
    while len(out) < QUERIES:
        item = ArchiveItem.objects.get(pk=rng.randrange(1, count + 1))
        present = [word for word in vocab if word in item.text]
        if not present:
            continue
        n = len(out)
        terms = rng.sample(present, min(len(present), rng.choice((1, 1, 2, 2, 3))))
        if n % 4 == 0:
            longer = [word for word in present if len(word) >= 4]
            if longer:
                terms[0] = f'"{rng.choice(longer)}"'
        filters: dict = {}
        if n % 3 == 0:
            kind = rng.randrange(3)
            if kind == 0:
                filters["doc_type"] = item.doc_type
            elif kind == 1:
                first = item.doc_date.year - rng.randrange(0, 3)
                filters |= {"year_from": first, "year_to": first + rng.randrange(2, 5)}
            else:
                filters["source"] = item.source
        out.append((" ".join(terms), filters))
    return out


def phase_breakdown(user, workload: list[tuple[str, dict]], slowest: int = 10) -> dict:
    """One more pass over the workload with the selector's steps timed (window, ranked, hits/snippets),
    by wrapping the module functions archive_search calls; logs the slowest queries with their phases."""
    from bizreg.archives.selectors import search as selector

    phases = ("_window", "_ranked", "_hits")
    current: dict[str, float] = {}
    originals = {name: getattr(selector, name) for name in phases}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                current[name] = current.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    rows = []
    try:
        for name, function in originals.items():
            setattr(selector, name, timed(name, function))
        for query, filters in workload:
            current.clear()
            t = time.perf_counter()
            page = selector.archive_search(user=user, query=query, filters=filters, page=1)
            total = time.perf_counter() - t
            rows.append(
                {
                    "query": query,
                    "filters": filters,
                    "total_ms": round(total * 1000, 1),
                    **{f"{name[1:]}_ms": round(current.get(name, 0.0) * 1000, 1) for name in phases},
                    "matches": page.total,
                    "capped": page.capped,
                }
            )
    finally:
        for name, function in originals.items():
            setattr(selector, name, function)
    rows.sort(key=lambda row: row["total_ms"], reverse=True)
    log("  slowest queries (ms: total / window / ranked / hits):")
    for row in rows[:slowest]:
        log(
            f"    {row['total_ms']:7.1f} / {row['window_ms']:6.1f} / {row['ranked_ms']:6.1f} / "
            f"{row['hits_ms']:6.1f}  {row['query']!r} {row['filters']} "
            f"({row['matches']}{'+' if row['capped'] else ''} matches)"
        )
    sums = {f"{name[1:]}_ms": round(sum(row[f"{name[1:]}_ms"] for row in rows), 1) for name in phases}
    log(f"  phase sums over {len(rows)} queries: {sums}")
    return {"phase_sums_ms": sums, "slowest": rows[:slowest]}


def run(backend: str, size: str) -> dict:
    count = SIZES[size]
    with throwaway_database(backend) as db:
        setup_django(db)
        from django.db import connection

        from bizreg.accounts.models import User
        from bizreg.archives import search
        from bizreg.archives.selectors.search import _filter_facets, archive_search, clean_filters

        authority = demo_authority()
        user = User.objects.create(username="bench_super", is_superuser=True, is_staff=True)
        log(f"  generating and indexing {count} items")
        load_figures = load(count, authority)
        log(f"  loaded: {load_figures}")

        workload = queries(random.Random(4756), count)
        vendor = connection.vendor

        def reference_sql(query: str, filters: dict) -> tuple[str, list]:
            parsed = search.parse_query(query)
            expr = search.build_expression(
                parsed.clauses, required=_filter_facets(clean_filters(filters)), vendor=vendor
            )
            if vendor == "postgresql":
                return (
                    "SELECT item_id FROM archives_itemsearchdoc "
                    "WHERE search_vector @@ to_tsquery('simple', %s) "
                    "ORDER BY ts_rank(search_vector, to_tsquery('simple', %s)) DESC LIMIT 25",
                    [expr.match, expr.rank],
                )
            return (
                "SELECT rowid FROM archives_itemsearch_fts WHERE archives_itemsearch_fts MATCH %s "
                "ORDER BY rank LIMIT 25",
                [expr.match],
            )

        def project(query: str, filters: dict) -> int:
            return len(archive_search(user=user, query=query, filters=filters, page=1).hits)

        def reference(query: str, filters: dict) -> int:
            sql, params = reference_sql(query, filters)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return len(cursor.fetchall())

        empty = 0
        for query, filters in workload:  # warm-up, and a check that both paths agree on "found something"
            p, r = project(query, filters), reference(query, filters)
            empty += p == 0
            if bool(p) != bool(r):
                log(f"  warning: project {p} vs reference {r} hits for {query!r} {filters}")
        timings: dict[str, list[float]] = {"project": [], "reference": []}
        for query, filters in workload:
            t = time.perf_counter()
            project(query, filters)
            timings["project"].append(time.perf_counter() - t)
            t = time.perf_counter()
            reference(query, filters)
            timings["reference"].append(time.perf_counter() - t)
        phases = phase_breakdown(user, workload)

    figures = {path: latency_figures(samples) for path, samples in timings.items()}
    figures["project"] |= load_figures | {"items": count, "queries_without_hits": empty}
    figures["project"]["phase_sums_ms"] = phases["phase_sums_ms"]
    figures["reference"]["items"] = count
    ratio = round(figures["project"]["p95_ms"] / figures["reference"]["p95_ms"], 2)
    return {
        "bench": "archive_search",
        "size": size,
        "backend": backend,
        "project": figures["project"],
        "reference": figures["reference"],
        "ratio": ratio,
        "goal": "project p95 < 100 ms over 1M items",
        "goal_met": figures["project"]["p95_ms"] < 100,
        "machine": machine(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    args = backend_args(__doc__.splitlines()[0]).parse_args()
    result = run(args.backend, args.size)
    emit(result)


if __name__ == "__main__":
    main()
