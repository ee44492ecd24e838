"""enterprise_search: latency of the register's search box by name, pinyin initials and USCC.

Register: the demo generator's enterprises (plus their former names, no history rows) — 60,000 (quick,
PostgreSQL and SQLite) or 1,000,000 (full, PostgreSQL), loaded through the seeder's fast path (COPY on
PostgreSQL), then ANALYZEd as autovacuum would.

Project: `bizreg.enterprises.selectors.enterprise_page(user=<a manager>, params={"q": term})` — the
list page's query: filtered, scoped to the user's authority, counted (the count collects the matching
ids, at most 10,001) and the first page of 50 rows fetched (street and lock flag included; read by those
ids when the count is under the cap).
Reference: the bare SQL for the same kind of query through the DB cursor: the count and the first page
(same columns, street join and lock flag, same order) with only the one predicate the kind needs —
name: case-insensitive contains; initials: contains on name_initials; USCC: equality — each in the
fastest exact form the schema offers (see _reference_query).
ratio = project p95 ÷ reference p95 over all queries. Goal: project p95 < 50 ms at 1M on PostgreSQL.

    python -m bench.enterprise_search --backend postgresql --size quick
"""

from __future__ import annotations

import datetime as dt
import random
import time

from bench.common import (
    StderrLog,
    backend_args,
    demo_authority,
    emit,
    latency_figures,
    log,
    machine,
    setup_django,
    throwaway_database,
)

SIZES = {"quick": 60_000, "full": 1_000_000}
TERMS_PER_KIND = 30
REPEATS = 3
KINDS = ("name", "initials", "uscc")
_PREFIXES = ("广州市南沙区", "南沙区", "广州市", "广州", "深圳市", "佛山市")


def _bench_user(authority):
    from django.contrib.auth.models import Group

    from bizreg.accounts.models import User
    from bizreg.accounts.roles import ROLE_BY_CODE

    user = User.objects.create(username="bench_manager", display_name="基准测试")
    user.authorities.add(authority)
    user.groups.add(Group.objects.get(name=ROLE_BY_CODE["manager"].name))
    return User.objects.get(pk=user.pk)


def _terms(rng: random.Random) -> dict[str, list[str]]:
    """Search words a clerk would type, drawn from the register itself."""
    from bizreg.enterprises.demo import STREET_ROADS
    from bizreg.enterprises.models import Enterprise

    places = tuple(place for place, _ in STREET_ROADS.values())
    ids = list(Enterprise.objects.order_by("id").values_list("id", flat=True))
    sample = Enterprise.objects.filter(pk__in=rng.sample(ids, 3 * TERMS_PER_KIND)).order_by("pk")
    rows = list(sample.values_list("name", "name_initials", "uscc"))
    terms: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for n, (name, initials, _) in enumerate(rows[: 2 * TERMS_PER_KIND]):
        # What distinguishes the name: without the region and town every name in the district starts with.
        prefix = next((p for p in _PREFIXES if name.startswith(p)), "")
        prefix += next((p for p in places if name[len(prefix) :].startswith(p)), "")
        if n < TERMS_PER_KIND:
            terms["name"].append(name[len(prefix) :][: rng.randint(2, 4)])  # the trade name: 瑞丰, 瑞丰贸易
        else:
            # One initial per Chinese character, so the prefix's initials are as long as the prefix.
            terms["initials"].append(initials[len(prefix) :][: rng.randint(4, 6)])  # 瑞丰贸易有限 → rfmyyx
    terms["uscc"] = [uscc for _, _, uscc in rows[2 * TERMS_PER_KIND :]]
    return terms


def _reference_query(vendor: str, kind: str, term: str) -> tuple[str, str, list]:
    """(page SQL, count SQL, parameters after the authority id): the one predicate the kind needs, in
    the fastest exact form the schema offers.

    Names: case-insensitive contains as each backend spells it (on PostgreSQL what icontains compiles
    to, so the expression indexes serve it; SQLite's LIKE ignores ASCII case). A two-character term on
    PostgreSQL, which no trigram can match, goes through the character-pair structures: for names the
    stored column `name_bigrams` and its index (migration 0005), for initials the `ent_bigrams`
    expression index (0004). For a two-character term, containing the pair is the match. No fallback:
    if the schema lacks them the reference fails loudly rather than scanning and flattering the ratio.
    """
    from bizreg.enterprises.models import Enterprise

    if kind == "uscc":
        predicate, value = "e.uscc = %s", term
    else:
        needle = term.upper() if kind == "name" else term.lower()
        if vendor == "postgresql":
            column = {"name": "UPPER(e.name::text)", "initials": "e.name_initials::text"}[kind]
        else:
            column = {"name": "e.name", "initials": "e.name_initials"}[kind]
        if len(needle) == 2 and vendor == "postgresql":
            if kind == "name":
                predicate, value = "e.name_bigrams @> ARRAY[%s]::text[]", needle
            else:
                predicate, value = f"ent_bigrams({column}) @> ARRAY[%s]::text[]", needle
        else:
            predicate, value = f"{column} LIKE %s", f"%{needle}%"
    where = f"e.authority_id = %s AND {predicate}"
    # The model's columns, as the project's query selects them (not any column the schema adds).
    columns = ", ".join(f"e.{f.column}" for f in Enterprise._meta.concrete_fields)
    page = (
        f"SELECT {columns}, s.id, s.code, s.name, s.division_code, EXISTS(SELECT 1 FROM "
        "enterprises_enterpriselock l WHERE l.enterprise_id = e.id AND l.released_at IS NULL) AS is_locked "
        "FROM enterprises_enterprise e JOIN enterprises_street s ON s.id = e.street_id "
        f"WHERE {where} ORDER BY e.established_on DESC, e.id DESC LIMIT 50"
    )
    count = f"SELECT COUNT(*) FROM enterprises_enterprise e WHERE {where}"
    return page, count, [value]


def run(backend: str, size: str) -> dict:
    count = SIZES[size]
    with throwaway_database(backend) as db:
        setup_django(db)
        from django.db import connection, transaction

        from bizreg.core.demo import DemoContext
        from bizreg.enterprises.demo import ensure_ftz_rules, load_register
        from bizreg.enterprises.selectors import enterprise_page

        authority = demo_authority()
        ensure_ftz_rules(authority=authority)
        user = _bench_user(authority)
        ctx = DemoContext(authority=authority, year=2023, scale=1.0, stdout=StderrLog())
        log(f"  loading {count} enterprises")
        t0 = time.perf_counter()
        with transaction.atomic():
            load_register(ctx, count=count, history=False, log_every=100_000)
        load_s = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        log(f"  loaded in {load_s:.0f}s")

        terms = _terms(random.Random(4754))
        reference_sql = {
            (kind, term): _reference_query(connection.vendor, kind, term)
            for kind in KINDS
            for term in terms[kind]
        }

        def project(term: str) -> int:
            page = enterprise_page(user=user, params={"q": term})
            rows = list(page.object_list)
            return page.paginator.count if rows else 0

        def reference(kind: str, term: str) -> int:
            page_sql, count_sql, values = reference_sql[kind, term]
            params = [authority.id, *values]
            with connection.cursor() as cursor:
                cursor.execute(count_sql, params)
                total = cursor.fetchone()[0]
                cursor.execute(page_sql, params)
                rows = cursor.fetchall()
            return total if rows else 0

        # Warm-up pass (caches, prepared plans), also a sanity check that both paths find the rows.
        misses = []
        for kind in KINDS:
            for term in terms[kind]:
                found_project = project(term)
                found_reference = reference(kind, term)
                # The project may cap its count (a list does not count past 100,000), so only "found
                # nothing where the reference found rows" is a miss.
                if found_reference == 0 or found_project == 0:
                    misses.append((kind, term, found_project, found_reference))
        if misses:
            log(f"  warning: a path found nothing for {misses[:5]}")

        timings: dict[str, dict[str, list[float]]] = {"project": {}, "reference": {}}
        for _ in range(REPEATS):
            for kind in KINDS:
                for term in terms[kind]:
                    t = time.perf_counter()
                    project(term)
                    timings["project"].setdefault(kind, []).append(time.perf_counter() - t)
                    t = time.perf_counter()
                    reference(kind, term)
                    timings["reference"].setdefault(kind, []).append(time.perf_counter() - t)

    figures = {}
    for path in ("project", "reference"):
        all_samples = [s for kind in KINDS for s in timings[path][kind]]
        figures[path] = {kind: latency_figures(timings[path][kind]) for kind in KINDS}
        figures[path] |= {k: v for k, v in latency_figures(all_samples).items() if k != "n"}
        figures[path]["enterprises"] = count
    figures["project"]["load_seconds"] = round(load_s, 1)
    result = {
        "bench": "enterprise_search",
        "size": size,
        "backend": backend,
        "project": figures["project"],
        "reference": figures["reference"],
        "ratio": round(figures["project"]["p95_ms"] / figures["reference"]["p95_ms"], 2),
        "goal": "project p95 < 50 ms at 1M enterprises on PostgreSQL",
        "terms": {kind: terms[kind][:3] for kind in KINDS},
        "machine": machine(),
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    if size == "full" and backend == "postgresql":
        result["goal_met"] = figures["project"]["p95_ms"] < 50
    return result


def main() -> None:
    args = backend_args(__doc__.splitlines()[0]).parse_args()
    emit(run(args.backend, args.size))


if __name__ == "__main__":
    main()
