"""cdr_import: Asterisk Master.csv lines into PostgreSQL through the project's import, against a raw COPY.

Data: N generated CDR lines (quick 100,000, full 1,000,000) in the 21-field layout (uniqueid, userfield,
peeraccount, linkedid, sequence) written to a temporary file: a working day's mix of a 5-line hunt group —
answered calls (some after an agent rang out, some transferred: several CDRs per linkedid), calls the IVR
answered and the caller left, BUSY, CONGESTION, NO ANSWER and FAILED.

Project: `services.pbx_import.import_pbx_file(path=…)` — stream, parse and validate every line
(pbx_formats: one csv reader over the stream, the same checks inlined, dates parsed once per distinct
string; a doubtful line goes through the line parser for its message), write PbxRecord rows (binary COPY
into a temporary table + INSERT … ON CONFLICT DO NOTHING in chunks), fold every linkedid into its Call
(call_facts; line and agent looked up; merged with queue_log facts when the authority has any) and
upsert the Calls (binary COPY + INSERT … ON CONFLICT DO UPDATE).
Reference: the same file's rows, read by Python's csv module, written by psycopg `COPY … FROM STDIN`
(write_row) into a bare table with the file's 21 columns (text, no keys or indexes), one transaction, same
database, same run. ratio = project seconds ÷ reference seconds. Goal: ≤ 4.

    python -m bench.cdr_import --backend postgresql --size quick   (usually through `python -m bench.run`)
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import time
from collections.abc import Iterator

from bench.common import backend_args, demo_authority, emit, log, machine, setup_django, throwaway_database

SIZES = {"quick": 100_000, "full": 1_000_000}
GOAL_RATIO = 4
REF_TABLE = "bench_cdr_raw"
_COLUMNS = [
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end_",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "peeraccount",
    "linkedid",
    "sequence",
]


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def generate_lines(n: int, *, seed: int = 1, start: dt.datetime | None = None) -> Iterator[str]:
    """n Master.csv lines (newline included), calls of a 5-line hunt group with agents SIP/8001…8010."""
    rng = random.Random(seed)
    clock = start or dt.datetime(2024, 3, 4, 8, 30)
    written = 0
    call_no = 0
    sequence = 0
    fmt = "%Y-%m-%d %H:%M:%S"

    def cdr(src, channel, dstchannel, app, begin, answer, end, disposition, uniqueid, linkedid) -> str:
        nonlocal sequence
        sequence += 1
        duration = int((end - begin).total_seconds())
        billsec = int((end - answer).total_seconds()) if answer else 0
        fields = [
            _q(""), _q(src), _q("39914115"), _q("from-trunk"), _q(f'"" <{src}>'), _q(channel),
            _q(dstchannel), _q(app), _q("hotline,t,,,300" if app == "Queue" else ""), _q(begin.strftime(fmt)),
            _q(answer.strftime(fmt) if answer else ""), _q(end.strftime(fmt)), str(duration), str(billsec),
            _q(disposition), _q("DOCUMENTATION"), _q(uniqueid), _q(""), _q(""), _q(linkedid), str(sequence),
        ]  # fmt: skip
        return ",".join(fields) + "\n"

    while written < n:
        call_no += 1
        clock += dt.timedelta(seconds=rng.randint(1, 4))
        epoch = int(clock.timestamp())
        linkedid = f"{epoch}.{call_no}"
        src = f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
        line = f"SIP/line{rng.choice((1, 1, 1, 2, 2, 3, 4, 5))}-{call_no:08x}"
        agent = f"SIP/80{rng.randint(1, 10):02d}-{call_no:08x}"
        wait = dt.timedelta(seconds=rng.randint(2, 40))
        talk = dt.timedelta(seconds=rng.randint(30, 600))
        kind = rng.random()
        rows: list[str] = []
        if kind < 0.55:
            rows.append(
                cdr(
                    src,
                    line,
                    agent,
                    "Queue",
                    clock,
                    clock + wait,
                    clock + wait + talk,
                    "ANSWERED",
                    linkedid,
                    linkedid,
                )
            )
        elif kind < 0.68:  # the first agent rang out, the next answered
            rows.append(
                cdr(src, line, agent, "Queue", clock, None, clock + wait, "NO ANSWER", linkedid, linkedid)
            )
            other = f"SIP/80{rng.randint(1, 10):02d}-{call_no:08x}"
            rows.append(
                cdr(
                    src,
                    line,
                    other,
                    "Queue",
                    clock,
                    clock + wait * 2,
                    clock + wait * 2 + talk,
                    "ANSWERED",
                    linkedid,
                    linkedid,
                )
            )
        elif kind < 0.73:  # answered, then transferred to a colleague
            ended = clock + wait + talk
            rows.append(
                cdr(src, line, agent, "Queue", clock, clock + wait, ended, "ANSWERED", linkedid, linkedid)
            )
            colleague = f"SIP/80{rng.randint(1, 10):02d}-{call_no + 1:08x}"
            rows.append(
                cdr(
                    "8001",
                    agent,
                    colleague,
                    "Dial",
                    ended,
                    ended + dt.timedelta(seconds=5),
                    ended + talk,
                    "ANSWERED",
                    f"{epoch}.{call_no}.1",
                    linkedid,
                )
            )
        elif kind < 0.83:  # the IVR answered, the caller left
            rows.append(
                cdr(src, line, "", "Playback", clock, clock, clock + wait, "ANSWERED", linkedid, linkedid)
            )
        elif kind < 0.90:
            rows.append(
                cdr(
                    src,
                    line,
                    "",
                    "Queue",
                    clock,
                    None,
                    clock + dt.timedelta(seconds=1),
                    "BUSY",
                    linkedid,
                    linkedid,
                )
            )
        elif kind < 0.92:
            rows.append(
                cdr(
                    src,
                    line,
                    "",
                    "Dial",
                    clock,
                    None,
                    clock + dt.timedelta(seconds=1),
                    "CONGESTION",
                    linkedid,
                    linkedid,
                )
            )
        elif kind < 0.97:
            rows.append(
                cdr(src, line, agent, "Queue", clock, None, clock + wait, "NO ANSWER", linkedid, linkedid)
            )
        else:
            rows.append(
                cdr(
                    src,
                    line,
                    agent,
                    "Dial",
                    clock,
                    None,
                    clock + dt.timedelta(seconds=2),
                    "FAILED",
                    linkedid,
                    linkedid,
                )
            )
        for row in rows[: n - written]:
            yield row
            written += 1


def _write_file(path: str, n: int) -> int:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(generate_lines(n))
    return os.path.getsize(path)


def _reference(path: str) -> float:
    """csv-read the same file and COPY its rows into a bare table of its 21 columns (one transaction)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {REF_TABLE}")
        cursor.execute(f"CREATE TABLE {REF_TABLE} ({', '.join(c + ' text' for c in _COLUMNS)})")
    t0 = time.perf_counter()
    copy_sql = f"COPY {REF_TABLE} ({', '.join(_COLUMNS)}) FROM STDIN"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        open(path, encoding="utf-8", newline="") as fh,
        cursor.cursor.copy(copy_sql) as copy,
    ):
        for row in csv.reader(fh):
            copy.write_row(row)
    seconds = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {REF_TABLE}")
        rows = cursor.fetchone()[0]
    return seconds, rows


def _floor() -> dict:
    """The database's own cost of the rows the project wrote: the same PbxRecord and Call rows copied,
    server-side (INSERT … SELECT, no client, no parsing, no logic), into empty tables with the project
    tables' columns, indexes, constraints and foreign keys, one transaction including its commit. No
    import that keeps these rows indexed for de-duplication and queries can be cheaper than this."""
    from django.db import connection, transaction

    from bizreg.consultation.models import Call, PbxRecord

    seconds: dict[str, float] = {}
    for model in (PbxRecord, Call):
        table = model._meta.db_table
        floor_table = f"bench_floor_{table}"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {floor_table}")
            cursor.execute(f"CREATE TABLE {floor_table} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype = 'f'",
                [table],
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {floor_table} ADD {definition}")
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {floor_table} SELECT * FROM {table}")
        seconds[table] = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {floor_table}")
    return seconds


def run(backend: str, size: str) -> dict:
    n = SIZES[size]
    with throwaway_database(backend) as db:
        setup_django(db)
        from django.contrib.auth import get_user_model
        from django.db import connection

        from bizreg.consultation.models import Call, HotlineLine, HotlineNumber, PbxRecord
        from bizreg.consultation.services.pbx_import import import_pbx_file

        authority = demo_authority()
        user = get_user_model().objects.create(username="bench-agent")
        hotline = HotlineNumber.objects.create(
            authority=authority, number="020-39914115", name="企业登记咨询热线"
        )
        for position in range(1, 6):
            HotlineLine.objects.create(
                hotline=hotline,
                position=position,
                label=f"{position} 号线",
                pbx_channel=f"SIP/line{position}",
            )
        path = str(db["dir"] / "Master.csv")
        t0 = time.perf_counter()
        size_bytes = _write_file(path, n)
        log(f"  generated {n:,} lines ({size_bytes / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        batch = import_pbx_file(
            authority=authority, actor=user, format="asterisk_cdr", hotline=hotline, path=path
        )
        project_s = time.perf_counter() - t0
        calls = Call.objects.count()
        records = PbxRecord.objects.count()
        log(f"  project: {project_s:.2f}s, {records:,} records, {calls:,} calls, status {batch.status}")
        assert batch.lines_rejected == 0 and records == n, (batch.lines_rejected, records)

        t0 = time.perf_counter()
        again = import_pbx_file(
            authority=authority, actor=user, format="asterisk_cdr", hotline=hotline, path=path
        )
        reimport_s = time.perf_counter() - t0
        assert again.records_new == 0 and Call.objects.count() == calls

        reference_s, ref_rows = _reference(path)
        log(f"  reference COPY: {reference_s:.2f}s, {ref_rows:,} rows")
        floor = _floor() if connection.vendor == "postgresql" else {}
        floor_s = sum(floor.values())
        if floor:
            parts = ", ".join(f"{t} {s:.2f}s" for t, s in floor.items())
            log(
                f"  floor (same rows into copies of the project tables): {floor_s:.2f}s = "
                f"{floor_s / reference_s:.1f}× the reference ({parts})"
            )
        result = {
            "bench": "cdr_import",
            "size": size,
            "backend": backend,
            "project": {
                "seconds": round(project_s, 3),
                "rows": n,
                "rows_per_s": round(n / project_s),
                "calls": calls,
                "reimport_seconds": round(reimport_s, 3),
                "method": "stream parse (one csv reader) + binary COPY to temp table + INSERT ON CONFLICT; "
                "calls folded and upserted"
                if connection.vendor == "postgresql"
                else "stream parse + bulk_create(ignore_conflicts); calls upserted",
            },
            "reference": {
                "seconds": round(reference_s, 3),
                "rows": ref_rows,
                "rows_per_s": round(ref_rows / reference_s),
                "method": "csv.reader + psycopg COPY FROM STDIN (write_row) into a bare 21-column text table",
            },
            "ratio": round(project_s / reference_s, 2),
            # What the database alone needs for the same rows in the project's indexed, constrained
            # tables; floor_ratio > GOAL_RATIO means no implementation can reach the goal on this machine.
            "floor": {
                "seconds": round(floor_s, 3),
                "by_table": {t: round(s, 3) for t, s in floor.items()},
                "floor_ratio": round(floor_s / reference_s, 2),
                "project_over_floor": round(project_s / floor_s, 2),
            }
            if floor
            else None,
            "goal": f"ratio <= {GOAL_RATIO}",
            "goal_met": project_s / reference_s <= GOAL_RATIO,
            "file_mb": round(size_bytes / 1e6, 1),
            "machine": machine(),
            "at": dt.datetime.now().isoformat(timespec="seconds"),
        }
    return result


def main() -> None:
    args = backend_args(__doc__.splitlines()[0]).parse_args()
    emit(run(args.backend, args.size))


if __name__ == "__main__":
    main()
