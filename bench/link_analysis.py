"""link_analysis: p95 of building the link graph around one person (issue 7, 研判).

Data (PostgreSQL only): a register of 1,000,000 enterprises with ≈3,000,000 person-roles (`full`) or
50,000 / ≈150,000 (`quick`), written with COPY into the project's tables of a dedicated database
`bizreg_bench_links_<size>` (override with BENCH_LINKS_DB). The database is kept after the run and reused
when its marker table says it holds this size and DATA_VERSION (building the full one takes minutes on two
cores); `--rebuild` drops it first. The register's search indexes (trigram / character-pair GIN) are
dropped in this database before loading: they serve the search box, not these look-ups, and would double
the build. Registration cases are not loaded (the case table stays empty; see RESULTS.md).

The register: every enterprise has a legal representative; companies also shareholders (the legal
representative among them), a supervisor, a liaison (often the legal representative, sometimes an agency's
staff) and, for a quarter of them, an agency's 委托代理人 (a pool of N/250 agents, each on ~60 enterprises);
12 % of legal representatives hold that role in another enterprise too; 5 % of enterprises share an address
with ~5 others. Embedded: rings of false registrations (quick 20, full 100), each 12 enterprises through one
agent with one phone at 3 addresses, each with a different victim as legal representative.

Samples (quick 100, full 200, drawn with a fixed seed): 20 % ring victims, 5 % ring agents, 5 % agency
agents (hubs that fill the graph to its cap), 70 % random people of the register. Each runs once untimed,
then timed.
Project: `bizreg.investigations.selectors.links.link_graph(id_number=…, depth=2, max_nodes=300)` — the
breadth-first walk with its set-based queries and the graph object (masking, node keys, edges).
Reference: one hand-written SQL statement doing the same two hops (roles of the person → their enterprises,
phones and addresses → the roles of those enterprises and the roles and enterprises sharing those phones
and addresses, plus the registration cases by ID number and phone) and fetching every row, uncapped.
ratio = project p95 ÷ reference p95. Goal: project p95 < 200 ms at 1M enterprises / 3M roles.

    python -m bench.link_analysis --backend postgresql --size quick
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import tempfile
import time
from pathlib import Path

from bench.common import latency_figures, log, machine, pg_admin, pg_url, setup_django

SIZES = {"quick": 50_000, "full": 1_000_000}
SAMPLES = {"quick": 100, "full": 200}
RINGS = {"quick": 20, "full": 100}
RING_SIZE = 12
DATA_VERSION = 1
DEPTH = 2
MAX_NODES = 300
SEED = 7_2023
CHUNK = 20_000

_AREA_TEXT = (
    "440103 440104 440105 440106 440111 440112 440113 440114 440115 440117 440118 440303 440304 440305 "
    "440306 440307 440402 440823 440825 440881 441202 441302 441322 441323 441402 441424 441481 441521 "
    "441581 441602 441621 441622 441802 441900 442000"
)
AREAS = tuple(_AREA_TEXT.split())
SURNAMES = "陈李黄张梁林刘吴罗何郑杨王冯周谢蔡曾邓许余钟卢彭苏潘叶麦郭朱谭胡关赵徐区莫温袁邱江方孙马高"
GIVEN = (
    "伟强明华建国志军杰俊浩文辉峰锋斌龙勇海波荣达健豪家嘉锦宇晨子梓铭泽展宏振德永兴耀"
    + "丽芳敏静燕霞婷玲娟红梅雪琳"
)
_ROAD_TEXT = (
    "进港大道 海滨路 环市大道 金隆路 丰泽东路 双山大道 金沙路 珠江东路 港前大道 万环西路 凤凰大道 黄阁大道"
)
ROADS = tuple(_ROAD_TEXT.split())
COMPANY_TYPES = (
    "llc",
    "llc",
    "llc",
    "llc",
    "llc",
    "joint_stock",
    "foreign",
    "partnership",
    "branch",
    "llc",
    "llc",
)


def _resident_id(k: int) -> str:
    """A valid, unique resident ID number for person k (area, birth day and sequence spread from k)."""
    from stdnum.cn import ric

    area = AREAS[k % len(AREAS)]
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(k // len(AREAS)) % 18_000)
    sequence = (k // (len(AREAS) * 18_000)) % 1000
    partial = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return partial + ric.calc_check_digit(partial + "0")


def _name(k: int) -> str:
    return SURNAMES[k % len(SURNAMES)] + GIVEN[(k * 7) % len(GIVEN)] + GIVEN[(k * 13) % len(GIVEN)]


def _phone(k: int) -> str:
    return f"1{'3578'[k % 4]}{(k * 104_729 + 12_345) % 1_000_000_000:09d}"


def _home(k: int) -> str:
    road = ROADS[k % len(ROADS)]
    return f"广州市南沙区{road}{k % 997 + 1}号{(k // 997) % 33 + 1}{(k // 32_901) % 30 + 1:02d}房"


class Register:
    """Generates the register's rows deterministically: enterprises, person-roles, and where the rings are."""

    def __init__(self, size: str):
        self.rng = random.Random(SEED)
        self.count = SIZES[size]
        self.rings = RINGS[size]
        self.next_person = 0
        self.agents = [self._new_person() for _ in range(max(4, self.count // 250))]
        self.shared_addresses = max(10, self.count // 100)
        self.ring_people: list[dict] = []  # {"agent": k, "victims": [k, …]}

    def _new_person(self) -> int:
        self.next_person += 1
        return self.next_person

    def enterprises(self):
        """Yields (index, entity type, address, roles); a role is (role, person k, share ratio, phone
        override, address override)."""
        rng = self.rng
        ordinary = self.count - self.rings * RING_SIZE
        recent: list[int] = []
        for i in range(ordinary):
            if recent and rng.random() < 0.12:
                rep = rng.choice(recent)
            else:
                rep = self._new_person()
                recent.append(rep)
                if len(recent) > 5000:
                    recent.pop(0)
            is_company = rng.random() < 0.55
            entity_type = rng.choice(COMPANY_TYPES) if is_company else "individual"
            if rng.random() < 0.05:
                address = (
                    f"广州市南沙区丰泽东路106号（自编1号楼）X{rng.randrange(self.shared_addresses):06d}房"
                )
            else:
                address = (
                    f"广州市南沙区{ROADS[i % len(ROADS)]}{i % 499 + 1}号{i // 499 % 40 + 1}{i % 30 + 1:02d}房"
                )
            roles = [("legal_rep", rep, None, None, None)]
            if is_company:
                if rng.random() < 0.4:
                    own = rng.choice((51, 60, 70, 80, 90))
                    roles += [
                        ("shareholder", rep, own, None, None),
                        ("shareholder", self._new_person(), 100 - own, None, None),
                    ]
                else:
                    roles.append(("shareholder", rep, 100, None, None))
                if rng.random() < 0.85:
                    roles.append(("supervisor", self._new_person(), None, None, None))
                r = rng.random()
                if r < 0.5:
                    roles.append(("liaison", rep, None, None, None))
                elif r < 0.7:
                    roles.append(("liaison", rng.choice(self.agents), None, None, None))
                else:
                    roles.append(("liaison", self._new_person(), None, None, None))
                if rng.random() < 0.25:
                    roles.append(("agent", rng.choice(self.agents), None, None, None))
            elif rng.random() < 0.3:
                roles.append(("liaison", rep, None, None, None))
            yield i, entity_type, address, roles
        for r in range(self.rings):
            agent = self._new_person()
            phone = f"139{r:08d}"
            places = [f"广州市南沙区横沥镇汇通二街{r + 1}号{n + 1}01房（仅限办公）" for n in range(3)]
            victims = []
            for n in range(RING_SIZE):
                victim = self._new_person()
                victims.append(victim)
                roles = [
                    ("legal_rep", victim, None, None, None),
                    ("shareholder", victim, 100, None, None),
                    ("agent", agent, None, phone, places[0]),
                    ("liaison", agent, None, phone, places[0]),
                ]
                yield ordinary + r * RING_SIZE + n, "llc", places[n % 3], roles
            self.ring_people.append({"agent": agent, "victims": victims})


def _drop_search_indexes(cursor) -> None:
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'enterprises_enterprise' "
        "AND (indexdef ILIKE '%% USING gin %%' OR indexdef ILIKE '%% USING gist %%')"
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def build(size: str, authority_id: int, street_id: int) -> dict:
    """Generate and COPY the register; returns figures of the build."""
    from django.db import connection

    from bizreg.enterprises.rules import address_key

    t0 = time.perf_counter()
    register = Register(size)
    now = dt.datetime.now(dt.UTC)
    enterprise_columns = (
        "id, created_at, updated_at, authority_id, uscc, uscc_is_exception, name, name_initials, "
        "entity_type, legal_rep_name, legal_rep_id_number, registered_capital, established_on, "
        "business_scope, industry, "
        "address, address_key, street_id, in_ftz, ftz_area, ftz_rule_id, ftz_override, ftz_override_reason, "
        "status, status_changed_on"
    )
    person_columns = (
        "created_at, updated_at, enterprise_id, role, name, id_number, phone, address, address_key, "
        "share_ratio, started_on, ended_on, end_reason"
    )
    ids: dict[int, str] = {}

    def id_of(k: int) -> str:
        found = ids.get(k)
        if found is None:
            found = ids[k] = _resident_id(k)
        return found

    persons = 0
    generated = register.enterprises()
    with connection.cursor() as cursor:
        _drop_search_indexes(cursor)
        raw = cursor.cursor
        while True:
            # Chunks, each enterprises then their person-roles: the full register's 3M role rows never
            # sit in memory at once.
            enterprise_rows, person_rows = [], []
            for i, entity_type, address, roles in itertools.islice(generated, CHUNK):
                pk = i + 1
                rep = roles[0][1]
                established = dt.date(2000, 1, 1) + dt.timedelta(days=(i * 37) % 8766)
                enterprise_rows.append(
                    (
                        pk, now, now, authority_id, f"91440115{pk:010d}", False,
                        f"广州南沙链接{pk}号有限公司", "", entity_type, _name(rep), id_of(rep), None,
                        established, "", "F", address,
                        address_key(address), street_id, False, "", None, None, "", "active", None,
                    )
                )  # fmt: skip
                for role, k, ratio, phone, place in roles:
                    home = place or _home(k)
                    person_rows.append(
                        (
                            now, now, pk, role, _name(k), id_of(k), phone or _phone(k), home,
                            address_key(home), ratio, established, None, "",
                        )
                    )  # fmt: skip
            if not enterprise_rows:
                break
            with raw.copy(f"COPY enterprises_enterprise ({enterprise_columns}) FROM STDIN") as copy:
                for row in enterprise_rows:
                    copy.write_row(row)
            with raw.copy(f"COPY enterprises_enterpriseperson ({person_columns}) FROM STDIN") as copy:
                for row in person_rows:
                    copy.write_row(row)
            persons += len(person_rows)
            if len(ids) > 400_000:
                ids.clear()
            done = enterprise_rows[-1][0]
            if done % 100_000 < CHUNK:
                log(f"  {done:,} enterprises, {persons:,} person-roles ({time.perf_counter() - t0:.0f} s)")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('enterprises_enterprise', 'id'), %s)", [register.count]
        )
        cursor.execute("ANALYZE enterprises_enterprise")
        cursor.execute("ANALYZE enterprises_enterpriseperson")
    return {
        "enterprises": register.count,
        "person_roles": persons,
        "persons": register.next_person,
        "rings": register.rings,
        "build_seconds": round(time.perf_counter() - t0, 1),
    }


def samples(size: str) -> list[str]:
    """The ID numbers timed: re-derived from the generator (cheap: no rows are written)."""
    register = Register(size)
    for _ in register.enterprises():
        pass
    rng = random.Random(SEED + 1)
    n = SAMPLES[size]
    picks = [rng.choice(ring["victims"]) for ring in rng.choices(register.ring_people, k=n * 20 // 100)]
    picks += [ring["agent"] for ring in rng.choices(register.ring_people, k=n * 5 // 100)]
    picks += rng.sample(register.agents, k=min(len(register.agents), n * 5 // 100))
    picks += [rng.randint(1, register.next_person) for _ in range(n - len(picks))]
    rng.shuffle(picks)
    return [_resident_id(k) for k in picks]


REFERENCE_SQL = """
WITH r1 AS (
    SELECT id, enterprise_id, role, name, id_number, phone, address_key FROM enterprises_enterpriseperson
    WHERE id_number = %(id)s
), e1 AS (
    SELECT id, address_key FROM enterprises_enterprise WHERE id IN (SELECT enterprise_id FROM r1)
), c1 AS (
    SELECT id, enterprise_id, agent_phone FROM registration_registrationcase
    WHERE applicant_id_number = %(id)s OR agent_id_number = %(id)s
), t1 AS (
    SELECT phone FROM r1 WHERE phone <> '' UNION SELECT agent_phone FROM c1 WHERE agent_phone <> ''
), a1 AS (
    SELECT address_key FROM r1 WHERE address_key <> ''
    UNION SELECT address_key FROM e1 WHERE address_key <> ''
), r2 AS (
    SELECT id, enterprise_id, role, name, id_number, phone, address_key FROM enterprises_enterpriseperson
    WHERE enterprise_id IN (SELECT id FROM e1)
    UNION
    SELECT id, enterprise_id, role, name, id_number, phone, address_key FROM enterprises_enterpriseperson
    WHERE phone IN (SELECT phone FROM t1) AND phone <> ''
    UNION
    SELECT id, enterprise_id, role, name, id_number, phone, address_key FROM enterprises_enterpriseperson
    WHERE address_key IN (SELECT address_key FROM a1) AND address_key <> ''
), c2 AS (
    SELECT id, enterprise_id FROM registration_registrationcase
    WHERE agent_phone IN (SELECT phone FROM t1) OR applicant_phone IN (SELECT phone FROM t1)
), e2 AS (
    SELECT id, name, uscc, status, address_key FROM enterprises_enterprise
    WHERE id IN (SELECT enterprise_id FROM r1 UNION SELECT enterprise_id FROM r2
                 UNION SELECT enterprise_id FROM c1 UNION SELECT enterprise_id FROM c2)
    UNION
    SELECT id, name, uscc, status, address_key FROM enterprises_enterprise
    WHERE address_key IN (SELECT address_key FROM a1) AND address_key <> ''
)
SELECT 'r', id, enterprise_id, id_number, phone, address_key FROM r1
UNION ALL SELECT 'r', id, enterprise_id, id_number, phone, address_key FROM r2
UNION ALL SELECT 'e', id, id, uscc, name, address_key FROM e2
UNION ALL SELECT 'c', id, enterprise_id, '', '', '' FROM c1
UNION ALL SELECT 'c', id, enterprise_id, '', '', '' FROM c2
"""


def _database_ready(dbname: str, size: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(pg_url(dbname), connect_timeout=3) as conn:
            row = conn.execute("SELECT size, version FROM bench_link_meta").fetchone()
    except Exception:  # noqa: BLE001 — missing database or table: build it
        return False
    return row == (size, DATA_VERSION)


def run(backend: str, size: str, *, rebuild: bool = False) -> dict:
    if backend != "postgresql":
        raise SystemExit("link_analysis runs on PostgreSQL only (its goal is stated for PostgreSQL)")
    dbname = os.environ.get("BENCH_LINKS_DB", f"bizreg_bench_links_{size}")
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
            "dir": Path(tempfile.gettempdir()) / f"bizreg-bench-links-{os.getpid()}",
        }
    )
    from django.db import connection

    from bench.common import demo_authority
    from bizreg.enterprises.models import Street
    from bizreg.investigations.selectors.links import link_graph

    if reused:
        with connection.cursor() as cursor:
            cursor.execute("SELECT figures FROM bench_link_meta")
            figures = json.loads(cursor.fetchone()[0])
    else:
        authority = demo_authority()
        street = Street.objects.get(code="440115003")
        figures = build(size, authority.pk, street.pk)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_link_meta (size text, version int, figures text)")
            cursor.execute(
                "INSERT INTO bench_link_meta VALUES (%s, %s, %s)", [size, DATA_VERSION, json.dumps(figures)]
            )
    log(f"  register: {figures}")
    ids = samples(size)

    def project(number: str) -> int:
        return len(link_graph(id_number=number, depth=DEPTH, max_nodes=MAX_NODES).nodes)

    def reference(number: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(REFERENCE_SQL, {"id": number})
            return len(cursor.fetchall())

    nodes, rows, truncated = [], [], 0
    for number in ids:  # warm-up, and the sizes of what each side returns
        graph = link_graph(id_number=number, depth=DEPTH, max_nodes=MAX_NODES)
        nodes.append(len(graph.nodes))
        truncated += graph.truncated
        rows.append(reference(number))
    timings: dict[str, list[float]] = {"project": [], "reference": []}
    for number in ids:
        t = time.perf_counter()
        project(number)
        timings["project"].append(time.perf_counter() - t)
        t = time.perf_counter()
        reference(number)
        timings["reference"].append(time.perf_counter() - t)
    depth3 = []
    for number in ids[: len(ids) // 2]:
        t = time.perf_counter()
        link_graph(id_number=number, depth=3, max_nodes=MAX_NODES)
        depth3.append(time.perf_counter() - t)

    result = {path: latency_figures(values) for path, values in timings.items()}
    result["project"] |= {
        "depth": DEPTH,
        "max_nodes": MAX_NODES,
        "nodes_mean": round(sum(nodes) / len(nodes), 1),
        "nodes_max": max(nodes),
        "truncated": truncated,
        "depth3_p95_ms": latency_figures(depth3)["p95_ms"],
        **figures,
        "reused_database": reused,
    }
    result["reference"] |= {"rows_mean": round(sum(rows) / len(rows), 1), "rows_max": max(rows)}
    return {
        "bench": "link_analysis",
        "size": size,
        "backend": backend,
        "project": result["project"],
        "reference": result["reference"],
        "ratio": round(result["project"]["p95_ms"] / result["reference"]["p95_ms"], 2),
        "goal": "project p95 < 200 ms at 1M enterprises / 3M person-roles on PostgreSQL",
        "goal_met": result["project"]["p95_ms"] < 200,
        "machine": machine(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    from bench.common import backend_args, emit

    parser = backend_args(__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the register database")
    args = parser.parse_args()
    emit(run(args.backend, args.size, rebuild=args.rebuild))


if __name__ == "__main__":
    main()
