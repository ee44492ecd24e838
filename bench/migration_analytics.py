"""migration_analytics: p95 of the migration analysis page's queries over five years of moves (issue 8).

Data (PostgreSQL only): five years (2020–2024) of `tracking.Migration` rows for the demo authority
(440115) — 300,000 (`full`) or 30,000 (`quick`) — plus a tenth as many of a second authority (440106),
which the user's scope must leave out; written with COPY into a dedicated database
`bizreg_bench_migr_<size>` (override with BENCH_MIGR_DB), then VACUUM ANALYZE. The database is kept and
reused when its marker table says it holds this size and DATA_VERSION (as link_analysis does); `--rebuild`
drops it first. The rows follow a plausible mix: 52 % moves in, industries and entity types weighted as a
district's register, registered capital log-uniform from 1 to 30,000 万元, thirty counterpart authorities
(their region from `services.migrations.counterpart_region`), the reason of a move out weighted with a
fifth unknown, and a month-of-year season.

Scenarios (what staff ask the page): the five years unfiltered, moves out only, one industry, one entity
type; each of the five years; the four quarters of 2024 — 13, each run once untimed, then RUNS times.
Project: `bizreg.tracking.selectors.migrations.migration_analysis(user=<manager>, filters=…)` — all the
page's figures (totals, by month, industry, entity type, capital band, region, reason: two GROUP BY
queries scoped to the user's authority, by day and by the combination of the grouped facts) and the
folding into the page's rows.
Reference: the authority's rows exported into an in-memory DuckDB (COPY to CSV, read_csv; not timed) and
the seven aggregations in DuckDB SQL with the same filters, one query per breakdown, every row fetched.
Every scenario's figures must agree between the two (`agree`). ratio = project p95 ÷ reference p95.
Goal: project p95 < 500 ms at 300k migrations on PostgreSQL.

    python -m bench.migration_analytics --backend postgresql --size quick   (usually through bench.run)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.common import latency_figures, log, machine, pg_admin, pg_url, setup_django

SIZES = {"quick": 30_000, "full": 300_000}
RUNS = {"quick": 5, "full": 5}
OTHER_SHARE = 0.1
DATA_VERSION = 2  # 2: the analysis index trk_migr_auth_date_facts
YEARS = (2020, 2021, 2022, 2023, 2024)
SEED = 8_2024
CHUNK = 20_000
GOAL_MS = 500

INDUSTRIES = (("F", 26), ("I", 16), ("L", 15), ("M", 11), ("C", 8), ("E", 6), ("G", 5), ("K", 4), ("H", 3))
INDUSTRIES += (("R", 2), ("O", 2), ("P", 1), ("J", 1))
ENTITY_TYPES = (("llc", 74), ("joint_stock", 4), ("sole_prop", 5), ("partnership", 6), ("foreign", 5))
ENTITY_TYPES += (("branch", 6),)
REASONS = (("cost", 22), ("premises", 14), ("policy", 12), ("market", 12), ("group", 8), ("service", 4))
REASONS += (("talent", 5), ("other", 3), ("unknown", 20))
COUNTERPARTS = (
    ("广州市天河区市场监督管理局", 9), ("广州市番禺区市场监督管理局", 9), ("广州市黄埔区市场监督管理局", 7),
    ("广州市越秀区市场监督管理局", 5), ("广州市海珠区市场监督管理局", 5), ("广州市白云区市场监督管理局", 4),
    ("广州市市场监督管理局", 3), ("深圳市市场监督管理局", 8), ("东莞市市场监督管理局", 6),
    ("佛山市顺德区市场监督管理局", 5), ("佛山市市场监督管理局", 4), ("中山市市场监督管理局", 4),
    ("珠海市市场监督管理局", 3), ("江门市市场监督管理局", 2), ("惠州市市场监督管理局", 2),
    ("肇庆市市场监督管理局", 1), ("清远市市场监督管理局", 1), ("广东省市场监督管理局", 1),
    ("上海市市场监督管理局", 2), ("北京市朝阳区市场监督管理局", 1), ("杭州市市场监督管理局", 1),
    ("长沙市市场监督管理局", 1), ("武汉市市场监督管理局", 1), ("成都市市场监督管理局", 1),
    ("厦门市市场监督管理局", 1), ("海口市市场监督管理局", 1), ("南宁市市场监督管理局", 1),
    ("苏州工业园区市场监督管理局", 1), ("香港特别行政区公司注册处", 1), ("", 1),
)  # fmt: skip
# More moves in spring and autumn, few around the Spring Festival (weight per month).
SEASON = (6, 5, 10, 9, 9, 9, 8, 7, 9, 8, 9, 11)

COLUMNS = (
    "id, created_at, updated_at, authority_id, direction, enterprise_id, enterprise_name, uscc, case_number, "
    "moved_on, industry, entity_type, registered_capital, counterpart_authority, counterpart_region, reason"
)


def _picker(rng: random.Random, weighted):
    values = [v for v, _ in weighted]
    cumulative, total = [], 0
    for _, w in weighted:
        total += w
        cumulative.append(total)
    return lambda: rng.choices(values, cum_weights=cumulative)[0]


def _days_by_month() -> list[list[dt.date]]:
    months = []
    for year in YEARS:
        for month in range(1, 13):
            first = dt.date(year, month, 1)
            last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            months.append([first + dt.timedelta(days=d) for d in range((last - first).days + 1)])
    return months


def rows(count: int, authority_id: int, division_code: str, first_id: int, rng: random.Random):
    """Yields the COPY rows of `count` migrations of one authority (deterministic for the seed)."""
    from bizreg.tracking.services.migrations import counterpart_region

    now = dt.datetime.now(dt.UTC)
    industry, entity_type = _picker(rng, INDUSTRIES), _picker(rng, ENTITY_TYPES)
    reason, counterpart = _picker(rng, REASONS), _picker(rng, COUNTERPARTS)
    months = _days_by_month()
    month_weights = [SEASON[i % 12] for i in range(len(months))]
    regions: dict[str, str] = {}
    for n in range(count):
        pk = first_id + n
        direction = "in" if rng.random() < 0.52 else "out"
        moved_on = rng.choice(rng.choices(months, weights=month_weights)[0])
        capital = Decimal(10 ** rng.uniform(0, math.log10(30_000))).quantize(Decimal("0.0001"))
        other = counterpart()
        region = regions.get(other)
        if region is None:
            region = regions[other] = counterpart_region(other, division_code=division_code)
        yield (
            pk, now, now, authority_id, direction, None, f"广州迁移样本{pk}号有限公司", f"9144{pk:014d}",
            f"MG{pk:010d}", moved_on, industry(), entity_type(), capital, other, region,
            reason() if direction == "out" else "unknown",
        )  # fmt: skip


def build(size: str) -> dict:
    from django.db import connection

    from bench.common import demo_authority
    from bizreg.core.models import Authority

    t0 = time.perf_counter()
    ours = demo_authority()
    theirs, _ = Authority.objects.get_or_create(
        code="440106", defaults={"name": "广州市天河区市场监督管理局", "division_code": "440106"}
    )
    rng = random.Random(SEED)
    count, other = SIZES[size], int(SIZES[size] * OTHER_SHARE)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        written = 0
        for authority, n, first in ((ours, count, 1), (theirs, other, count + 1)):
            generated = rows(n, authority.pk, authority.division_code, first, rng)
            while True:
                chunk = [row for _, row in zip(range(CHUNK), generated, strict=False)]
                if not chunk:
                    break
                with raw.copy(f"COPY tracking_migration ({COLUMNS}) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
                written += len(chunk)
            log(f"  {written:,} migrations written ({time.perf_counter() - t0:.0f} s)")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tracking_migration', 'id'), %s)", [count + other]
        )
    # Outside a transaction: VACUUM refuses to run inside one (and sets the visibility map for index-only
    # scans, as autovacuum would shortly after a bulk load).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tracking_migration")
    return {
        "migrations": count,
        "other_authority_migrations": other,
        "authority_id": ours.pk,
        "build_seconds": round(time.perf_counter() - t0, 1),
    }


def _database_ready(dbname: str, size: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(pg_url(dbname), connect_timeout=3) as conn:
            row = conn.execute("SELECT size, version FROM bench_migr_meta").fetchone()
    except Exception:  # noqa: BLE001 — missing database or table: build it
        return False
    return row == (size, DATA_VERSION)


def _bench_user(authority_id: int):
    from django.contrib.auth.models import Group

    from bizreg.accounts.models import User
    from bizreg.accounts.roles import ROLE_BY_CODE

    user, _ = User.objects.get_or_create(username="bench_migr_manager", defaults={"display_name": "基准测试"})
    user.authorities.set([authority_id])
    user.groups.set([Group.objects.get(name=ROLE_BY_CODE["manager"].name)])
    return User.objects.get(pk=user.pk)


def scenarios():
    from bizreg.tracking.selectors.migrations import MigrationFilters

    five = {"start": dt.date(YEARS[0], 1, 1), "end": dt.date(YEARS[-1], 12, 31)}
    found = [
        ("5y", MigrationFilters(**five)),
        ("5y_out", MigrationFilters(**five, direction="out")),
        ("5y_industry_I", MigrationFilters(**five, industry="I")),
        ("5y_llc", MigrationFilters(**five, entity_type="llc")),
    ]
    found += [(f"{y}", MigrationFilters(start=dt.date(y, 1, 1), end=dt.date(y, 12, 31))) for y in YEARS]
    for q in range(4):
        start = dt.date(YEARS[-1], q * 3 + 1, 1)
        end = (start + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
        found.append((f"{YEARS[-1]}Q{q + 1}", MigrationFilters(start=start, end=end)))
    return found


# --- the reference -----------------------------------------------------------------------------------------

BANDS_SQL = """CASE WHEN registered_capital < 100 THEN 'lt100' WHEN registered_capital < 500 THEN '100_500'
    WHEN registered_capital < 1000 THEN '500_1000' WHEN registered_capital < 5000 THEN '1000_5000'
    ELSE 'ge5000' END"""


def _export_to_duckdb(directory: Path, authority_id: int):
    import duckdb
    from django.db import connection

    path = directory / "migrations.csv"
    columns = "direction, moved_on, industry, entity_type, registered_capital, counterpart_region, reason"
    with (
        connection.cursor() as cursor,
        path.open("wb") as fh,
        cursor.cursor.copy(
            f"COPY (SELECT {columns} FROM tracking_migration WHERE authority_id = {int(authority_id)}) "
            "TO STDOUT (FORMAT csv)"
        ) as copy,
    ):
        for data in copy:
            fh.write(data)
    con = duckdb.connect(":memory:")
    con.execute(
        f"""CREATE TABLE migrations AS SELECT * FROM read_csv('{path}', header=false, columns={{
            'direction': 'VARCHAR', 'moved_on': 'DATE', 'industry': 'VARCHAR', 'entity_type': 'VARCHAR',
            'registered_capital': 'DECIMAL(16,4)', 'counterpart_region': 'VARCHAR', 'reason': 'VARCHAR'}})"""
    )
    return con, con.execute("SELECT COUNT(*) FROM migrations").fetchone()[0]


def reference(con, filters) -> dict:
    """The seven aggregations in DuckDB SQL, every row fetched."""
    where, params = ["moved_on BETWEEN ? AND ?"], [filters.start, filters.end]
    for column in ("direction", "industry", "entity_type"):
        if getattr(filters, column):
            where.append(f"{column} = ?")
            params.append(getattr(filters, column))
    cond = " AND ".join(where)

    def q(select: str, group: str, extra: str = "") -> list:
        sql = f"SELECT {select}, COUNT(*) FROM migrations WHERE {cond} {extra} GROUP BY {group}"
        return con.execute(sql, params).fetchall()

    return {
        "totals": con.execute(
            "SELECT direction, COUNT(*), SUM(registered_capital) FROM migrations "
            f"WHERE {cond} GROUP BY direction",
            params,
        ).fetchall(),
        "months": q("date_trunc('month', moved_on)::DATE AS m, direction", "m, direction"),
        "industries": q("industry, direction", "industry, direction"),
        "entity_types": q("entity_type, direction", "entity_type, direction"),
        "capital_bands": q(f"{BANDS_SQL} AS band, direction", "band, direction"),
        "regions": q("counterpart_region, direction", "counterpart_region, direction"),
        "reasons": q("reason", "reason", "AND direction = 'out'"),
    }


def _normalised_reference(result: dict) -> dict:
    out = {
        "totals": {d: (n, Decimal(s).quantize(Decimal("0.0001"))) for d, n, s in result["totals"]},
        "reasons": {reason: n for reason, n in result["reasons"]},
    }
    for name in ("months", "industries", "entity_types", "capital_bands", "regions"):
        out[name] = {(str(key), d): n for key, d, n in result[name]}
    return out


def _normalised_project(analysis) -> dict:
    totals = {}
    if analysis.totals.moved_in:
        totals["in"] = (
            analysis.totals.moved_in,
            Decimal(analysis.totals.capital_in).quantize(Decimal("0.0001")),
        )
    if analysis.totals.moved_out:
        totals["out"] = (
            analysis.totals.moved_out,
            Decimal(analysis.totals.capital_out).quantize(Decimal("0.0001")),
        )
    out = {"totals": totals, "reasons": {r.key: r.moved_out for r in analysis.reasons if r.moved_out}}
    for name in ("months", "industries", "entity_types", "capital_bands", "regions"):
        found = {}
        for row in getattr(analysis, name):
            for direction, n in (("in", row.moved_in), ("out", row.moved_out)):
                if n:
                    found[(row.key, direction)] = n
        out[name] = found
    return out


# --- the run ---------------------------------------------------------------------------------------------


def run(backend: str, size: str, *, rebuild: bool = False) -> dict:
    if backend != "postgresql":
        raise SystemExit("migration_analytics runs on PostgreSQL only (its goal is stated for PostgreSQL)")
    dbname = os.environ.get("BENCH_MIGR_DB", f"bizreg_bench_migr_{size}")
    reused = not rebuild and _database_ready(dbname, size)
    if not reused:
        with pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
    log(f"  {'reusing' if reused else 'building'} {dbname}")
    setup_django(
        {
            "backend": "postgresql",
            "url": pg_url(dbname),
            "pg_name": dbname,
            "dir": Path(tempfile.gettempdir()) / f"bizreg-bench-migr-{os.getpid()}",
        }
    )
    from django.db import connection

    from bizreg.tracking.selectors.migrations import migration_analysis

    if reused:
        with connection.cursor() as cursor:
            cursor.execute("SELECT figures FROM bench_migr_meta")
            figures = json.loads(cursor.fetchone()[0])
    else:
        figures = build(size)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_migr_meta (size text, version int, figures text)")
            cursor.execute(
                "INSERT INTO bench_migr_meta VALUES (%s, %s, %s)", [size, DATA_VERSION, json.dumps(figures)]
            )
    log(f"  data: {figures}")
    user = _bench_user(figures["authority_id"])
    cases = scenarios()

    with tempfile.TemporaryDirectory(prefix="bizreg-bench-migr-") as directory:
        t1 = time.perf_counter()
        con, exported = _export_to_duckdb(Path(directory), figures["authority_id"])
        export_seconds = time.perf_counter() - t1
    log(f"  exported {exported:,} rows into DuckDB in {export_seconds:.1f} s")

    mismatches = {}
    for name, filters in cases:  # warm-up, and the agreement of the figures
        project = _normalised_project(migration_analysis(user=user, filters=filters))
        ref = _normalised_reference(reference(con, filters))
        if project != ref:
            differing = [k for k in project if project[k] != ref[k]]
            mismatches[name] = differing
            log(f"!! MISMATCH {name}: {differing}")
    timings: dict[str, list[float]] = {"project": [], "reference": []}
    by_scenario: dict[str, dict[str, list[float]]] = {
        name: {"project": [], "reference": []} for name, _ in cases
    }
    for _ in range(RUNS[size]):
        for name, filters in cases:
            t = time.perf_counter()
            migration_analysis(user=user, filters=filters)
            elapsed = time.perf_counter() - t
            timings["project"].append(elapsed)
            by_scenario[name]["project"].append(elapsed)
            t = time.perf_counter()
            reference(con, filters)
            elapsed = time.perf_counter() - t
            timings["reference"].append(elapsed)
            by_scenario[name]["reference"].append(elapsed)
    con.close()

    result = {path: latency_figures(values) for path, values in timings.items()}
    scenario_figures = {
        name: {
            "project_p95_ms": latency_figures(values["project"])["p95_ms"],
            "reference_p95_ms": latency_figures(values["reference"])["p95_ms"],
        }
        for name, values in by_scenario.items()
    }
    result["project"] |= {"queries_per_page": 2, **figures, "reused_database": reused}
    result["reference"] |= {
        "engine": "duckdb " + __import__("duckdb").__version__,
        "rows": exported,
        "export_seconds": round(export_seconds, 1),
    }
    return {
        "bench": "migration_analytics",
        "size": size,
        "backend": backend,
        "project": result["project"],
        "reference": result["reference"],
        "ratio": round(result["project"]["p95_ms"] / result["reference"]["p95_ms"], 2),
        "scenarios": scenario_figures,
        "agree": not mismatches,
        "mismatches": mismatches,
        "goal": f"project p95 < {GOAL_MS} ms at 300k migrations over 5 years on PostgreSQL",
        "goal_met": result["project"]["p95_ms"] < GOAL_MS,
        "machine": machine(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    from bench.common import backend_args, emit

    parser = backend_args(__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the migrations database")
    args = parser.parse_args()
    emit(run(args.backend, args.size, rebuild=args.rebuild))


if __name__ == "__main__":
    main()
