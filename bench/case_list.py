"""case_list: latency of the clerk's case list (filters + sort + page) over many registration cases.

Cases: 400,000 (full, PostgreSQL) or 60,000 (quick, PostgreSQL and SQLite) of one authority over five
years (2019–2023), with the demo year's mix of types, channels and states (most archived, a few hundred
open), 8 % of another authority on top so scoping has work to do. Loaded with COPY on PostgreSQL
(executemany on SQLite) through the demo loader, then ANALYZEd.

Project: `bizreg.registration.selectors.cases.case_listing(user=<a clerk>, params=…)` — what the case list
page runs: the filter set (validation, filters, sort), scoped to the clerk's authority, the capped count
(at most 10,001) and the page of 50 rows with the receiving clerk; the due status of each row; the
收件人 filter's choices (the authority's staff who receive cases or received one; the authority also has
two users of each other role, who never did).
Queries (each run 3 times after a warm-up): the default list, a later page, open cases by due date,
type + channel, a month of receipts, archived changes on page 10, the overdue warning list, an enterprise
name fragment, a case-number prefix, an applicant's name, number order.
Reference: the bare SQL of each query through the DB cursor — the same predicate, order, count (capped
the same way) and page, with the receiving clerk joined, and the choices' SELECT.
ratio = project p95 ÷ reference p95.
Goal: project p95 < 100 ms at 400k cases on PostgreSQL.

    python -m bench.case_list --backend postgresql --size full
"""

from __future__ import annotations

import datetime as dt
import random
import time

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

SIZES = {"quick": 60_000, "full": 400_000}
OTHER_AUTHORITY_SHARE = 0.08
REPEATS = 3
YEARS = range(2019, 2024)
PAGE = 50
CAP = 10_000


def _users(authority, other):
    from django.contrib.auth.models import Group

    from bizreg.accounts.models import User
    from bizreg.accounts.roles import ROLE_BY_CODE

    group = Group.objects.get(name=ROLE_BY_CODE["registration_clerk"].name)
    users = []
    for n, auth in enumerate([authority] * 6 + [other] * 2):
        user = User.objects.create(username=f"bench_clerk{n}", display_name=f"窗口{n}")
        user.authorities.add(auth)
        user.groups.add(group)
        users.append(user)
    # The rest of the bureau, two of each other role: they never receive a case, so the 收件人 choices
    # must find that out for each of them.
    for code, role in ROLE_BY_CODE.items():
        if code == "registration_clerk":
            continue
        for n in range(2):
            colleague = User.objects.create(username=f"bench_{code}{n}", display_name=f"{role.name}{n}")
            colleague.authorities.add(authority)
            colleague.groups.add(Group.objects.get(name=role.name))
    return users[:6], users[6:]


def _load(count: int, authority, other, clerks, other_clerks) -> None:
    """Cases with the demo year's mix, written by the demo's raw loader (COPY on PostgreSQL)."""
    from django.utils import timezone

    from bizreg.core.demo_loader import RawLoader
    from bizreg.enterprises.demo import BRAND_CHARS, COMPANY_WORDS, SURNAMES
    from bizreg.registration.demo import CHANNEL_WEIGHTS, TYPE_SHARES, _Weighted
    from bizreg.registration.models import CaseState, RegistrationCase

    rng = random.Random(20230508)
    tz = timezone.get_default_timezone()
    types = _Weighted(TYPE_SHARES)
    channels = {t: _Weighted(w) for t, w in CHANNEL_WEIGHTS.items()}
    surnames = _Weighted(SURNAMES)
    words = [w for group in COMPANY_WORDS.values() for w in group]
    given = "伟强明华建国志军杰俊浩文辉峰丽芳敏静燕霞婷玲娟"
    days = [dt.date(year, 1, 1) + dt.timedelta(days=n) for year in YEARS for n in range(365)]
    days = [d for d in days if d.weekday() < 5]
    open_states = (CaseState.RECEIVED, CaseState.RETURNED, CaseState.PRE_REVIEWED, CaseState.ACCEPTED)
    loader = RawLoader()
    sequence: dict[tuple[int, dt.date], int] = {}
    batch: list[dict] = []
    now = timezone.now()

    def flush() -> None:
        loader.insert(RegistrationCase, batch)
        batch.clear()

    for n in range(count):
        mine = rng.random() >= OTHER_AUTHORITY_SHARE
        auth, clerk = (authority, rng.choice(clerks)) if mine else (other, rng.choice(other_clerks))
        case_type = types.pick(rng)
        day = rng.choice(days)
        received = dt.datetime.combine(day, dt.time(9 + rng.randrange(8), rng.randrange(60)), tzinfo=tz)
        key = (auth.pk, day)
        sequence[key] = sequence.get(key, 0) + 1
        recent = day >= dt.date(2023, 12, 20)
        state = rng.choice(open_states) if recent and rng.random() < 0.5 else CaseState.ARCHIVED
        if rng.random() < 0.01:
            state = CaseState.REJECTED
        accepted = (
            received + dt.timedelta(minutes=20)
            if state not in (CaseState.RECEIVED, CaseState.RETURNED)
            else None
        )
        decided = (
            accepted + dt.timedelta(hours=rng.choice((1, 2, 24, 48)))
            if accepted and state not in open_states
            else None
        )
        name = "广州" + "".join(rng.choice(BRAND_CHARS) for _ in range(2)) + rng.choice(words) + "有限公司"
        batch.append(
            {
                "created_at": now,
                "updated_at": now,
                "authority_id": auth.pk,
                "number": f"{auth.code}{day:%Y%m%d}{sequence[key]:05d}",
                "external_id": "",
                "case_type": case_type,
                "channel": channels[case_type].pick(rng),
                "state": state,
                "enterprise_id": None,
                "enterprise_name": name,
                "uscc": "",
                "requested_changes": {},
                "investigation_reference": "",
                "applicant_name": surnames.pick(rng) + rng.choice(given) + rng.choice(given),
                "applicant_id_number": "440115198001011234",
                "applicant_phone": f"138{rng.randrange(10**8):08d}",
                "agent_name": "",
                "agent_id_number": "",
                "agent_phone": "",
                "received_at": received,
                "received_by_id": clerk.pk,
                "accepted_at": accepted,
                "due_on": (accepted.date() + dt.timedelta(days=5)) if accepted else None,
                "extended": False,
                "decided_at": decided,
                "licensed_at": None,
                "archived_at": decided + dt.timedelta(days=7)
                if decided and state == CaseState.ARCHIVED
                else None,
                "paused_working_days": 0,
                "on_the_spot": False,
            }
        )
        if len(batch) >= 20_000:
            flush()
            log(f"  cases {n + 1}/{count}")
    flush()


def _queries(rng: random.Random, authority) -> list[tuple[str, dict]]:
    from bizreg.registration.models import RegistrationCase

    mine = RegistrationCase.objects.filter(authority=authority)
    sample = list(mine.order_by("?").values_list("enterprise_name", "number", "applicant_name")[:30])
    queries = [
        ("default", {}),
        ("page 5", {"page": "5"}),
        ("open by due date", {"state": "accepted", "sort": "due_on"}),
        ("type + channel, page 3", {"case_type": "establishment", "channel": "full_electronic", "page": "3"}),
        ("a month", {"received_from": "2023-05-01", "received_to": "2023-05-31", "sort": "received_at"}),
        ("archived changes, page 10", {"state": "archived", "case_type": "change", "page": "10"}),
        ("overdue", {"due": "overdue"}),
        ("number order, page 2", {"sort": "number", "page": "2"}),
    ]
    for name, number, applicant in sample[:8]:
        queries.append(("enterprise name", {"q": name[2 : 2 + rng.randint(2, 4)]}))
        queries.append(("number prefix", {"q": number[:14]}))
        queries.append(("applicant", {"q": applicant}))
    return queries


def _reference(vendor: str, authority_id: int, kind: str, params: dict) -> tuple[str, str, list]:
    """(page SQL, count SQL, params) for the query — the one predicate it needs, same order and page."""
    from django.utils import timezone

    from bizreg.registration.models import RegistrationCase

    where = ["c.authority_id = %s"]
    values: list = [authority_id]
    order = "c.received_at DESC, c.id DESC"
    if params.get("state"):
        where.append("c.state = %s")
        values.append(params["state"])
    if params.get("case_type"):
        where.append("c.case_type = %s")
        values.append(params["case_type"])
    if params.get("channel"):
        where.append("c.channel = %s")
        values.append(params["channel"])
    if params.get("received_from"):
        tz = timezone.get_default_timezone()
        start = dt.datetime.combine(dt.date.fromisoformat(params["received_from"]), dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(dt.date.fromisoformat(params["received_to"]), dt.time.min, tzinfo=tz)
        where.append("c.received_at >= %s AND c.received_at < %s")
        values += [start, end + dt.timedelta(days=1)]
    if params.get("due") == "overdue":
        where.append("c.state = 'accepted' AND c.due_on < %s")
        values.append(timezone.localdate())
    q = params.get("q")
    if kind == "enterprise name":
        if vendor == "postgresql" and len(q) == 2:
            # The character-pair column (registration migration 0005): the trigram index cannot serve a
            # two-character pattern.
            where.append("c.enterprise_name_bigrams @> ARRAY[UPPER(%s)]::text[]")
            values.append(q)
        elif vendor == "postgresql":
            where.append("UPPER(c.enterprise_name::text) LIKE UPPER(%s)")
            values.append(f"%{q}%")
        else:
            where.append("c.enterprise_name LIKE %s ESCAPE '\\'")
            values.append(f"%{q}%")
    elif kind == "number prefix":
        where.append("c.number >= %s AND c.number < %s")
        values += [q, q[:-1] + chr(ord(q[-1]) + 1)]
    elif kind == "applicant":
        where.append("c.applicant_name = %s")
        values.append(q)
    sort = params.get("sort")
    if sort == "due_on":
        order = (
            "c.due_on ASC NULLS LAST, c.id ASC"
            if vendor == "postgresql"
            else "c.due_on IS NULL, c.due_on, c.id"
        )
    elif sort == "received_at":
        order = "c.received_at ASC, c.id ASC"
    elif sort == "number":
        order = "c.number ASC"
    offset = (int(params.get("page", 1)) - 1) * PAGE
    condition = " AND ".join(where)
    # The model's columns, not c.*: on PostgreSQL the table also holds the name's character pairs, which
    # the project never reads.
    columns = ", ".join(f"c.{f.column}" for f in RegistrationCase._meta.concrete_fields)
    page_sql = (
        f"SELECT {columns}, u.username, u.display_name FROM registration_registrationcase c "
        "LEFT JOIN accounts_user u ON u.id = c.received_by_id "
        f"WHERE {condition} ORDER BY {order} LIMIT {PAGE} OFFSET {offset}"
    )
    count_sql = (
        "SELECT COUNT(*) FROM (SELECT c.id FROM registration_registrationcase c "
        f"WHERE {condition} LIMIT {CAP + 1}) t"
    )
    return page_sql, count_sql, values


def _receivers_reference(cursor, vendor: str, authority_id: int) -> list:
    """The 收件人 choices of the filter form in bare SQL: the authority's active staff who hold the right to
    receive cases, or whose latest case there exists, by name."""
    is_active = "u.is_active" if vendor == "postgresql" else "u.is_active = 1"
    cursor.execute(
        "SELECT u.id, u.username, u.display_name FROM accounts_user u "
        f"WHERE {is_active} AND u.id IN "
        "(SELECT user_id FROM accounts_user_authorities WHERE authority_id = %s) "
        "AND (EXISTS (SELECT 1 FROM accounts_user_groups ug "
        "JOIN auth_group_permissions gp ON gp.group_id = ug.group_id "
        "JOIN auth_permission p ON p.id = gp.permission_id "
        "JOIN django_content_type ct ON ct.id = p.content_type_id "
        "WHERE ug.user_id = u.id AND p.codename = 'add_registrationcase' AND ct.app_label = 'registration') "
        "OR (SELECT c.received_at FROM registration_registrationcase c "
        "WHERE c.authority_id = %s AND c.received_by_id = u.id ORDER BY c.received_at DESC LIMIT 1) "
        "IS NOT NULL) ORDER BY u.display_name, u.username",
        [authority_id, authority_id],
    )
    return cursor.fetchall()


def run(backend: str, size: str) -> dict:
    count = SIZES[size]
    with throwaway_database(backend) as db:
        setup_django(db)
        from django.db import connection, transaction

        from bizreg.core.models import Authority
        from bizreg.registration.selectors.cases import case_listing

        authority = demo_authority()
        other = Authority.objects.create(
            code="440106", name="广州市天河区市场监督管理局", division_code="440106"
        )
        clerks, other_clerks = _users(authority, other)
        user = clerks[0]
        log(f"  loading {count} cases")
        t0 = time.perf_counter()
        with transaction.atomic():
            _load(count, authority, other, clerks, other_clerks)
        load_s = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        log(f"  loaded in {load_s:.0f}s")

        queries = _queries(random.Random(4754), authority)
        reference_sql = [
            _reference(connection.vendor, authority.pk, kind, params) for kind, params in queries
        ]

        def project(params: dict) -> int:
            listing = case_listing(user=user, params=params)
            rows = listing.rows
            list(listing.filterset.form.fields["received_by"].queryset)
            return listing.page.paginator.count if rows else 0

        def reference(index: int) -> int:
            page_sql, count_sql, values = reference_sql[index]
            with connection.cursor() as cursor:
                cursor.execute(count_sql, values)
                total = cursor.fetchone()[0]
                cursor.execute(page_sql, values)
                rows = cursor.fetchall()
                _receivers_reference(cursor, connection.vendor, authority.pk)
            return min(total, CAP) if rows else 0

        mismatches = []
        for index, (kind, params) in enumerate(queries):
            found_project, found_reference = project(params), reference(index)
            if found_project != found_reference:
                mismatches.append((kind, params, found_project, found_reference))
        if mismatches:
            log(f"  note: counts differ (the project's search ORs more fields) for {mismatches[:4]}")

        samples: dict[str, list[float]] = {"project": [], "reference": []}
        by_kind: dict[str, list[float]] = {}
        for _ in range(REPEATS):
            for index, (kind, params) in enumerate(queries):
                t = time.perf_counter()
                project(params)
                elapsed = time.perf_counter() - t
                samples["project"].append(elapsed)
                by_kind.setdefault(kind, []).append(elapsed)
                t = time.perf_counter()
                reference(index)
                samples["reference"].append(time.perf_counter() - t)

    project_figures = {k: v for k, v in latency_figures(samples["project"]).items()}
    project_figures |= {"cases": count, "load_seconds": round(load_s, 1)}
    project_figures["by_query"] = {
        kind: latency_figures(values)["p95_ms"] for kind, values in by_kind.items()
    }
    reference_figures = latency_figures(samples["reference"])
    result = {
        "bench": "case_list",
        "size": size,
        "backend": backend,
        "project": project_figures,
        "reference": reference_figures,
        "ratio": round(project_figures["p95_ms"] / reference_figures["p95_ms"], 2),
        "goal": "project p95 < 100 ms at 400k cases on PostgreSQL",
        "machine": machine(),
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    if size == "full" and backend == "postgresql":
        result["goal_met"] = project_figures["p95_ms"] < 100
    return result


def main() -> None:
    args = backend_args(__doc__.splitlines()[0]).parse_args()
    emit(run(args.backend, args.size))


if __name__ == "__main__":
    main()
