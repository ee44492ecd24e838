"""kpi_compute: every indicator of the performance project over a seed-scale year, against DuckDB.

Data: `manage.py seed_demo` on the throwaway database, then VACUUM ANALYZE (the register, the demo
users, the registration year — about 1.39M rows at `full`, 0.1 of it at `quick` — and the performance
project of the `performance.year` seeder). The project's indicators measured by registration metrics
are wired as in the demo (业务服务量, 信息录入及指引份数, 营业执照使用率); 指标 8 (压缩审批时间) is
switched to its numeric alternative (registration.processing_time_yoy_change), and the other
registration metrics (cases_received, mean/P90 working days, on-time rate) are added as weight-0
monitoring indicators, so that the evaluation computes every registration metric once.

Project: `selectors.measurements.evaluate_project(project)` — the year's actual of every indicator through
the metric registry, the payments total and the scoring — median of 5 runs after a warm-up.
Reference: the rows those metrics read (cases, service records, licence sheets, mail packages, case
pauses) exported into an in-memory DuckDB (CSV written from the database, then DuckDB's read_csv; the
export is not timed) with a working-day calendar table built from core.workdays, and the same
aggregations in DuckDB SQL, one query per metric (the final rounding of a rate or mean is done in
Python, the same Decimal rule as the project), median of 5 runs. The processing-time metrics read, on both
sides, the decision clock each case stored when it was decided (processing_working_days, decided_on_time);
an untimed DuckDB recount of every case's working days from its dates, the calendar and its pauses checks
those stored clocks. Every metric's DuckDB value must equal the project's, and the recount the stored
clocks: a mismatch is printed and `agree` is false.

Figures: project {seconds, indicators, metrics}, reference {seconds, export_seconds}, ratio = project ÷
reference, rows (the underlying rows read), by_metric (median ms of each metric on each side, and the
value). Goal: project < 1 s on PostgreSQL and ratio ≤ 5.

    python -m bench.kpi_compute --backend postgresql --size quick   (usually through `python -m bench.run`)
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
import time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from bench.common import StderrLog, backend_args, emit, log, machine, setup_django, throwaway_database

SCALES = {"quick": 0.1, "full": 1.0}
RUNS = 5
GOAL_SECONDS = 1.0
GOAL_RATIO = 5
TWO = Decimal("0.01")
EXTRA_METRICS = (  # weight-0 monitoring indicators added for the benchmark
    ("registration.cases_received", "登记业务办理量（收件）", "件"),
    ("registration.mean_processing_working_days", "平均办理时长", "工作日"),
    ("registration.p90_processing_working_days", "办理时长 P90", "工作日"),
    ("registration.on_time_rate", "按期办结率", "%"),
)

DECIDED_KEYS = {
    "registration.mean_processing_working_days",
    "registration.p90_processing_working_days",
    "registration.on_time_rate",
    "registration.processing_time_yoy_change",
}

# (table, columns with their DuckDB types, model path) — timestamps exported as naive UTC.
EXPORTS = {
    "cases": (
        "registration_registrationcase",
        [
            ("id", "BIGINT"),
            ("authority_id", "BIGINT"),
            ("received_at", "TIMESTAMP"),
            ("accepted_at", "TIMESTAMP"),
            ("decided_at", "TIMESTAMP"),
            ("due_on", "DATE"),
            ("processing_working_days", "INTEGER"),
            ("decided_on_time", "BOOLEAN"),
        ],
    ),
    "service_records": (
        "registration_servicerecord",
        [("authority_id", "BIGINT"), ("occurred_at", "TIMESTAMP")],
    ),
    "licence_sheets": (
        "registration_licencesheet",
        [
            ("authority_id", "BIGINT"),
            ("status", "VARCHAR"),
            ("used_at", "TIMESTAMP"),
            ("retired_at", "TIMESTAMP"),
        ],
    ),
    "mail_packages": ("registration_mailpackage", [("authority_id", "BIGINT"), ("recorded_at", "TIMESTAMP")]),
    "pauses": (
        "registration_casepause",
        [("case_id", "BIGINT"), ("started_on", "DATE"), ("ended_on", "DATE")],
    ),
    # Indicators 2 and 7 (hotline answer and completion rates; the satisfaction rate, indicator 10's numeric
    # alternative, from the same rows) and 6 (档案查询服务率).
    "calls": (
        "consultation_call",
        [
            ("authority_id", "BIGINT"),
            ("offered_at", "TIMESTAMP"),
            ("outcome", "VARCHAR"),
            ("wait_seconds", "INTEGER"),
            ("resolved", "BOOLEAN"),
            ("follow_up_ticket_id", "BIGINT"),
            ("satisfaction_score", "INTEGER"),
        ],
    ),
    "tickets": (
        "consultation_ticket",
        [("id", "BIGINT"), ("state", "VARCHAR"), ("merged_into_id", "BIGINT")],
    ),
    "access_requests": (
        "archives_accessrequest",
        [
            ("authority_id", "BIGINT"),
            ("submitted_at", "TIMESTAMP"),
            ("state", "VARCHAR"),
            ("due_at", "TIMESTAMP"),
            ("decided_at", "TIMESTAMP"),
            ("served_at", "TIMESTAMP"),
        ],
    ),
}


def _median_run(func, runs: int = RUNS) -> tuple[float, object]:
    result = func()  # warm-up (caches, prepared plans, the calendar library's data)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TWO, rounding=ROUND_HALF_UP)


# --- data ------------------------------------------------------------------------------------------------


def _seed(scale: float):
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("seed_demo", "--scale", str(scale), stdout=StderrLog())
    # A bulk-loaded database as autovacuum leaves it shortly after: statistics and the visibility map
    # (which lets PostgreSQL count from an index without visiting the table).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    log(f"  seeded the demo year at scale {scale:g} (vacuumed, analyzed) in {time.perf_counter() - t0:.0f}s")


def _wire_project():
    """The demo project with every registration metric on an indicator (see the module docstring)."""
    from bizreg.core.metrics_registry import get_metric
    from bizreg.performance import catalog
    from bizreg.performance.models import Direction, Indicator, Level1, Level2, Project

    project = Project.objects.get(code=catalog.SEED_PROJECT["code"])
    eight = project.indicators.get(code="8")
    key, direction, target = catalog.SEED_INDICATOR_BY_NAME[eight.name].numeric_alternative
    get_metric(key)
    Indicator.objects.filter(pk=eight.pk).update(
        metric_key=key, direction=direction, target_value=target, unit="%", qualitative_tier=""
    )
    order = project.indicators.count()
    for i, (key, name, unit) in enumerate(EXTRA_METRICS, start=1):
        get_metric(key)
        Indicator.objects.create(
            project=project,
            code=f"M{i}",
            order=order + i,
            level1=Level1.OUTPUT,
            level2=Level2.TIMELINESS,
            name=name,
            unit=unit,
            direction=Direction.AT_LEAST,
            target_value=Decimal(1),
            weight=Decimal(0),
            metric_key=key,
        )
    return project


def _export(directory: Path) -> dict[str, int]:
    """Write each table to CSV from the database (PostgreSQL COPY, or the csv module on SQLite)."""
    from django.db import connection

    counts = {}
    for name, (table, columns) in EXPORTS.items():
        path = directory / f"{name}.csv"
        if connection.vendor == "postgresql":
            select = ", ".join(
                f"({c} AT TIME ZONE 'UTC')" if kind == "TIMESTAMP" else c for c, kind in columns
            )
            with connection.cursor() as cursor, path.open("wb") as fh:
                with cursor.cursor.copy(
                    f"COPY (SELECT {select} FROM {table}) TO STDOUT (FORMAT csv)"
                ) as copy:
                    for data in copy:
                        fh.write(data)
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[name] = cursor.fetchone()[0]
        else:
            n = 0
            with connection.cursor() as cursor, path.open("w", newline="") as fh:
                writer = csv.writer(fh)
                cursor.execute(f"SELECT {', '.join(c for c, _ in columns)} FROM {table}")
                while rows := cursor.fetchmany(20_000):
                    # SQLite keeps aware datetimes as naive UTC text already; NULL → empty field.
                    writer.writerows(rows)
                    n += len(rows)
            counts[name] = n
    return counts


def _load_duckdb(directory: Path, year: int):
    import duckdb
    from django.utils import timezone

    from bizreg.core.workdays import WorkingCalendar

    con = duckdb.connect(":memory:")
    for name, (_table, columns) in EXPORTS.items():
        spec = "{" + ", ".join(f"'{c}': '{kind}'" for c, kind in columns) + "}"
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv('{directory / (name + '.csv')}', "
            f"header=false, columns={spec}, nullstr='')"
        )
    # Working days as a cumulative count: working days in (a, b] = cum[b] − cum[a] (core.workdays rule).
    first, last = dt.date(year - 2, 1, 1), dt.date(year + 1, 12, 31)
    calendar = WorkingCalendar(first, last)
    rows, running, day = [], 0, first
    while day <= last:
        running += calendar.is_working_day(day)
        rows.append((day, running))
        day += dt.timedelta(days=1)
    con.execute("CREATE TABLE cal (day DATE PRIMARY KEY, cum INTEGER)")
    con.executemany("INSERT INTO cal VALUES (?, ?)", rows)
    # Local dates of the stored UTC moments: Asia/Shanghai has had a fixed offset (UTC+8, no DST) since 1991.
    tz = timezone.get_default_timezone()
    offsets = {dt.datetime(y, m, 1, tzinfo=tz).utcoffset() for y in (year - 1, year) for m in (1, 7)}
    if len(offsets) != 1:
        raise RuntimeError(f"the reference needs a fixed UTC offset for {tz}, found {offsets}")
    hours = int(offsets.pop().total_seconds() // 3600)
    return con, hours


# --- the reference: the same metrics in DuckDB SQL ---------------------------------------------------------


class Reference:
    """The metrics in DuckDB SQL. `recount=False` reads the decision clock stored on each case, as the
    project does (the timed reference); `recount=True` recounts every case's working days from its dates,
    the calendar and its pauses (untimed: it checks the stored clocks against the records)."""

    def __init__(self, con, offset_hours: int, authority_id: int, *, recount: bool = False):
        from django.utils import timezone

        self.recount = recount
        self.con = con
        self.offset = offset_hours
        self.authority = authority_id
        self.tz = timezone.get_default_timezone()

    def _utc(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    def _count(self, table: str, column: str, start, end, extra: str = "") -> int:
        return self.con.execute(
            f"SELECT COUNT(*) FROM {table} WHERE authority_id = ? AND {column} >= ? AND {column} < ? {extra}",
            [self.authority, self._utc(start), self._utc(end)],
        ).fetchone()[0]

    def cases_received(self, start, end) -> Decimal:
        return Decimal(self._count("cases", "received_at", start, end))

    def info_entries_and_guidance(self, start, end) -> Decimal:
        return Decimal(self._count("service_records", "occurred_at", start, end))

    def business_volume(self, start, end) -> Decimal:
        return Decimal(
            self._count("cases", "received_at", start, end)
            + self._count("service_records", "occurred_at", start, end)
            + self._count("licence_sheets", "used_at", start, end, "AND status = 'printed'")
            + self._count("mail_packages", "recorded_at", start, end)
        )

    def licence_usage_rate(self, start, end) -> Decimal:
        consumed, valid = self.con.execute(
            """SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'printed') FROM licence_sheets
               WHERE authority_id = ? AND status <> 'blank'
                 AND COALESCE(used_at, retired_at) >= ? AND COALESCE(used_at, retired_at) < ?""",
            [self.authority, self._utc(start), self._utc(end)],
        ).fetchone()
        return _percent(valid, consumed)

    def _decided_sql(self, tail: str) -> str:
        """The decided cases of the period with their working days (pauses left out), then `tail`."""
        h = self.offset
        if not self.recount:
            return f"""
            WITH spans AS (
                SELECT processing_working_days AS wd, decided_on_time AS on_time
                FROM cases
                WHERE authority_id = ? AND decided_at >= ? AND decided_at < ? AND accepted_at IS NOT NULL
            )
            {tail}"""
        return f"""
            WITH decided AS (
                SELECT id, CAST(accepted_at + INTERVAL {h} HOUR AS DATE) AS accepted_on,
                       CAST(decided_at + INTERVAL {h} HOUR AS DATE) AS decided_on, due_on
                FROM cases
                WHERE authority_id = ? AND decided_at >= ? AND decided_at < ? AND accepted_at IS NOT NULL
            ),
            paused AS (
                SELECT d.id,
                       SUM(CASE WHEN hi.day > lo.day THEN hi.cum - lo.cum ELSE 0 END) AS days
                FROM decided d
                JOIN pauses p ON p.case_id = d.id
                JOIN cal lo ON lo.day = GREATEST(p.started_on, d.accepted_on)
                JOIN cal hi ON hi.day = LEAST(COALESCE(p.ended_on, d.decided_on), d.decided_on)
                GROUP BY d.id
            ),
            spans AS (
                SELECT d.id, (d.due_on IS NULL OR d.decided_on <= d.due_on) AS on_time,
                       GREATEST(CASE WHEN b.day > a.day THEN b.cum - a.cum ELSE 0 END
                                - COALESCE(paused.days, 0), 0) AS wd
                FROM decided d
                JOIN cal a ON a.day = d.accepted_on
                JOIN cal b ON b.day = d.decided_on
                LEFT JOIN paused ON paused.id = d.id
            )
            {tail}"""

    def _decided(self, tail: str, start, end):
        return self.con.execute(
            self._decided_sql(tail), [self.authority, self._utc(start), self._utc(end)]
        ).fetchone()

    def mean_processing_working_days(self, start, end) -> Decimal:
        total, n = self._decided("SELECT SUM(wd), COUNT(*) FROM spans", start, end)
        if not n:
            return Decimal(0)
        return (Decimal(int(total)) / Decimal(n)).quantize(TWO, rounding=ROUND_HALF_UP)

    def p90_processing_working_days(self, start, end) -> Decimal:
        row = self._decided(
            """SELECT wd FROM (SELECT wd, ROW_NUMBER() OVER (ORDER BY wd) AS rn, COUNT(*) OVER () AS n
                                FROM spans)
               WHERE rn = (90 * n + 99) // 100""",
            start,
            end,
        )
        return Decimal(row[0]) if row else Decimal(0)

    def on_time_rate(self, start, end) -> Decimal:
        on_time, n = self._decided(
            "SELECT COUNT(*) FILTER (WHERE on_time), COUNT(*) FROM spans",
            start,
            end,
        )
        return _percent(on_time, n)

    def processing_time_yoy_change(self, start, end) -> Decimal:
        def raw_mean(a, b) -> Fraction | None:
            total, n = self._decided("SELECT SUM(wd), COUNT(*) FROM spans", a, b)
            return Fraction(int(total), n) if n else None

        current = raw_mean(start, end) or Fraction(0)
        previous = raw_mean(start.replace(year=start.year - 1), end.replace(year=end.year - 1))
        if not previous:
            return Decimal(0)
        change = (current - previous) * 100 / previous
        return (Decimal(change.numerator) / Decimal(change.denominator)).quantize(TWO, rounding=ROUND_HALF_UP)

    def _calls(self, start, end) -> tuple[int, int, int, int, int]:
        """(offered, answered, completed, surveyed, satisfied) as consultation.metrics.call_aggregates counts
        them: a short abandon is not offered; completed = answered and settled on the call, or its follow-up
        ticket (or the ticket it was merged into) resolved/closed; satisfied = a survey score of 4 or 5."""
        from bizreg.consultation.metrics import short_abandon_seconds

        short = short_abandon_seconds()
        return self.con.execute(
            """
            WITH c AS (
                SELECT calls.*, t.state AS ticket_state, m.state AS merged_state
                FROM calls
                LEFT JOIN tickets t ON t.id = calls.follow_up_ticket_id
                LEFT JOIN tickets m ON m.id = t.merged_into_id
                WHERE calls.authority_id = ? AND offered_at >= ? AND offered_at < ?
                  AND NOT (? > 0 AND outcome = 'abandoned' AND wait_seconds < ?)
            )
            SELECT COUNT(*),
                   COUNT(*) FILTER (WHERE outcome = 'answered'),
                   COUNT(*) FILTER (WHERE outcome = 'answered' AND (resolved
                       OR ticket_state IN ('resolved', 'closed') OR merged_state IN ('resolved', 'closed'))),
                   COUNT(*) FILTER (WHERE satisfaction_score IS NOT NULL),
                   COUNT(*) FILTER (WHERE satisfaction_score >= 4)
            FROM c
            """,
            [self.authority, self._utc(start), self._utc(end), short, short],
        ).fetchone()

    def hotline_answer_rate(self, start, end) -> Decimal:
        offered, answered, *_ = self._calls(start, end)
        return _percent(answered, offered)

    def hotline_completion_rate(self, start, end) -> Decimal:
        _offered, answered, completed, *_ = self._calls(start, end)
        return _percent(completed, answered)

    def satisfaction_rate(self, start, end) -> Decimal:
        *_, surveyed, satisfied = self._calls(start, end)
        return _percent(satisfied, surveyed)

    def query_service_rate(self, start, end) -> Decimal:
        """Requests submitted in the period, less those still open and not yet due; in time = served by the
        deadline, or refused (with reasons) by it."""
        from django.utils import timezone

        now = timezone.now().astimezone(dt.UTC).replace(tzinfo=None)
        in_time, counted = self.con.execute(
            """
            SELECT COUNT(*) FILTER (WHERE (served_at IS NOT NULL AND served_at <= due_at)
                       OR (state = 'rejected' AND decided_at IS NOT NULL AND decided_at <= due_at)),
                   COUNT(*)
            FROM access_requests
            WHERE authority_id = ? AND submitted_at >= ? AND submitted_at < ?
              AND NOT (state IN ('submitted', 'approved') AND due_at > ?)
            """,
            [self.authority, self._utc(start), self._utc(end), now],
        ).fetchone()
        return _percent(in_time, counted)

    def compute(self, key: str, start, end) -> Decimal:
        module, name = key.split(".", 1)
        if module not in ("registration", "consultation", "archives"):
            raise KeyError(f"the DuckDB reference has no {key}")
        return getattr(self, name)(start, end)


# --- the run ---------------------------------------------------------------------------------------------


def run(backend: str, size: str) -> dict:
    from django.conf import settings

    with throwaway_database(backend) as db:
        setup_django(db)
        from bizreg.core.metrics_registry import get_metric
        from bizreg.performance.selectors.measurements import evaluate_project, year_bounds
        from bizreg.registration.metrics import DEFAULT_BUSINESS_VOLUME_KINDS, business_volume_kinds

        if business_volume_kinds() != DEFAULT_BUSINESS_VOLUME_KINDS:
            raise RuntimeError("the reference computes the default REGISTRATION_BUSINESS_VOLUME_KINDS only")
        _seed(SCALES[size])
        project = _wire_project()
        start, end = year_bounds(project)
        indicators = list(project.indicators.exclude(metric_key="").order_by("order"))
        keys = [i.metric_key for i in indicators]
        ids = [project.authority_id]

        def project_path():
            return evaluate_project(project)

        project_seconds, evaluation = _median_run(project_path)
        log(f"  project: {len(evaluation.indicators)} indicators in {project_seconds * 1000:.0f} ms (median)")
        project_values = {key: get_metric(key).compute(ids, start, end) for key in keys}
        # Where the time goes: each metric alone, as the evaluation calls it.
        by_metric = {}
        for key in keys:
            seconds, _ = _median_run(lambda key=key: get_metric(key).compute(ids, start, end), runs=3)
            by_metric[key] = {"project_ms": round(seconds * 1000, 1), "value": str(project_values[key])}

        export_dir = Path(db["dir"]) / "export"
        export_dir.mkdir()
        t0 = time.perf_counter()
        counts = _export(export_dir)
        con, hours = _load_duckdb(export_dir, project.fiscal_year)
        export_seconds = time.perf_counter() - t0
        rows = sum(counts.values())
        log(f"  exported {rows:,} rows into DuckDB in {export_seconds:.1f}s ({counts})")
        reference = Reference(con, hours, project.authority_id)

        def reference_path():
            return {key: reference.compute(key, start, end) for key in keys}

        reference_seconds, reference_values = _median_run(reference_path)
        for key in keys:
            seconds, _ = _median_run(lambda key=key: reference.compute(key, start, end), runs=3)
            by_metric[key]["reference_ms"] = round(seconds * 1000, 1)
        mismatches = {
            key: {"project": str(project_values[key]), "duckdb": str(reference_values[key])}
            for key in keys
            if project_values[key] != reference_values[key]
        }
        for key, values in mismatches.items():
            log(f"!! MISMATCH {key}: project {values['project']} ≠ DuckDB {values['duckdb']}")
        # The stored decision clocks against a recount from the dates, calendar and pauses.
        recount = Reference(con, hours, project.authority_id, recount=True)
        for key in keys:
            if key in DECIDED_KEYS and recount.compute(key, start, end) != reference_values[key]:
                mismatches[key + " (recount)"] = {
                    "stored": str(reference_values[key]),
                    "recount": str(recount.compute(key, start, end)),
                }
                log(f"!! MISMATCH {key}: stored clocks ≠ recount {mismatches[key + ' (recount)']}")
        con.close()
        ratio = project_seconds / reference_seconds if reference_seconds else None
        return {
            "bench": "kpi_compute",
            "size": size,
            "backend": backend,
            "project": {
                "seconds": round(project_seconds, 4),
                "indicators": len(evaluation.indicators),
                "metrics": len(keys),
                "rows_per_s": round(rows / project_seconds) if project_seconds else None,
                "total": str(evaluation.total),
                "grade": evaluation.grade,
            },
            "reference": {
                "seconds": round(reference_seconds, 4),
                "export_seconds": round(export_seconds, 1),
                "rows_per_s": round(rows / reference_seconds) if reference_seconds else None,
                "engine": "duckdb " + __import__("duckdb").__version__,
            },
            "ratio": round(ratio, 2) if ratio is not None else None,
            "rows": rows,
            "rows_by_table": counts,
            "by_metric": by_metric,
            "agree": not mismatches,
            "mismatches": mismatches,
            "goal_seconds": GOAL_SECONDS,
            "goal_ratio": GOAL_RATIO,
            "goal_met": project_seconds < GOAL_SECONDS and ratio is not None and ratio <= GOAL_RATIO,
            "goal": f"project < {GOAL_SECONDS:g} s on PostgreSQL and within {GOAL_RATIO}× of DuckDB",
            "scale": SCALES[size],
            "time_zone": settings.TIME_ZONE,
            "machine": machine(),
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


def main() -> None:
    args = backend_args(
        "kpi_compute: all indicators of the project for a seed-scale year vs DuckDB"
    ).parse_args()
    emit(run(args.backend, args.size))


if __name__ == "__main__":
    main()
