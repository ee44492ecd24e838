"""Reads of the hotline dashboard and the capacity planner: the figures of consultation.metrics for a period,
also per day, per line, per agent and per hour of day — each table one grouped query, scoped to the
viewer's authorities (and optionally one hotline).

Periods here are inclusive local dates [first, last] as the pages show them; consultation.metrics takes the
half-open [start, end).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import DateField, F, Func, IntegerField, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation import erlang
from bizreg.consultation.metrics import (
    CallFigures,
    TicketFigures,
    call_aggregates,
    ticket_aggregates,
)
from bizreg.consultation.models import Agent, Call, CallOutcome, HotlineLine, HotlineNumber, Ticket
from bizreg.core.scoping import scope_to_user

MAX_SPAN_DAYS = 366
HOURS = range(24)


class PeriodError(ValueError):
    pass


def check_period(first: dt.date, last: dt.date) -> None:
    if last < first:
        raise PeriodError(_("起始日期不能晚于截止日期。"))
    if (last - first).days >= MAX_SPAN_DAYS:
        raise PeriodError(_("统计区间不能超过 %(days)d 天。") % {"days": MAX_SPAN_DAYS})


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(first, dt.time.min, tzinfo=tz),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def _fixed_offset_minutes(since: dt.datetime, until: dt.datetime) -> int | None:
    """The zone's UTC offset in minutes when it is the same over the whole period (Asia/Shanghai: always)."""
    tz = timezone.get_default_timezone()
    offsets = {tz.utcoffset(moment.replace(tzinfo=None)) for moment in (since, until)}
    return int(offsets.pop().total_seconds() // 60) if len(offsets) == 1 else None


def _local_day(column: str, since: dt.datetime, until: dt.datetime):
    """The local calendar day of a datetime column, computed by the database. On SQLite Django's TruncDate
    calls back into Python for every row; with a fixed offset SQLite's own date() does it."""
    minutes = _fixed_offset_minutes(since, until) if connection.vendor == "sqlite" else None
    if minutes is None:
        return TruncDate(column, tzinfo=timezone.get_default_timezone())
    return Func(
        F(column), template=f"date(%(expressions)s, '{minutes:+d} minutes')", output_field=DateField()
    )


def _local_hour(column: str, since: dt.datetime, until: dt.datetime):
    minutes = _fixed_offset_minutes(since, until) if connection.vendor == "sqlite" else None
    if minutes is None:
        return ExtractHour(column, tzinfo=timezone.get_default_timezone())
    return Func(
        F(column),
        # substr(datetime(…), 12, 2) is the hour of 'YYYY-MM-DD HH:MM:SS'; strftime('%H') would put a bare
        # % into the SQL, which the debug cursor (DEBUG=True, query counting) cannot log.
        template=f"CAST(substr(datetime(%(expressions)s, '{minutes:+d} minutes'), 12, 2) AS INTEGER)",
        output_field=IntegerField(),
    )


# --- what the viewer may see ------------------------------------------------------------------------------


def hotlines_for(user) -> QuerySet[HotlineNumber]:
    return scope_to_user(HotlineNumber.objects.all(), user).order_by("authority_id", "number")


def hotline_for(user, pk) -> HotlineNumber | None:
    """One of the viewer's hotlines, or None (another authority's looks the same as none)."""
    try:
        return hotlines_for(user).get(pk=int(pk))
    except (HotlineNumber.DoesNotExist, TypeError, ValueError):
        return None


def _calls(user, first: dt.date, last: dt.date, hotline: HotlineNumber | None) -> QuerySet[Call]:
    check_period(first, last)
    since, until = _bounds(first, last)
    calls = scope_to_user(Call.objects.all(), user).filter(offered_at__gte=since, offered_at__lt=until)
    if hotline is not None:
        calls = calls.filter(hotline=hotline)
    return calls.order_by()


# --- the period as a whole --------------------------------------------------------------------------------


def period_call_figures(
    *, user, first: dt.date, last: dt.date, hotline: HotlineNumber | None = None
) -> CallFigures:
    return CallFigures.from_row(_calls(user, first, last, hotline).aggregate(**call_aggregates()))


def period_ticket_figures(*, user, first: dt.date, last: dt.date) -> TicketFigures:
    check_period(first, last)
    since, until = _bounds(first, last)
    tickets = scope_to_user(Ticket.objects.all(), user).filter(opened_at__gte=since, opened_at__lt=until)
    return TicketFigures.from_row(tickets.order_by().aggregate(**ticket_aggregates(timezone.now())))


# --- per day ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    figures: CallFigures


def daily_figures(
    *, user, first: dt.date, last: dt.date, hotline: HotlineNumber | None = None
) -> list[DayRow]:
    """One row per calendar day of the period, days without calls included (all zeros)."""
    since, until = _bounds(first, last)
    rows = (
        _calls(user, first, last, hotline)
        .annotate(local_day=_local_day("offered_at", since, until))
        .values("local_day")
        .annotate(**call_aggregates())
    )
    by_day = {_as_date(row["local_day"]): CallFigures.from_row(row) for row in rows}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [DayRow(day, by_day.get(day, CallFigures())) for day in days]


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


# --- per hour of day --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourRow:
    hour: int
    figures: CallFigures
    days: int  # days of the period with at least one call in any hour (the divisor of the daily mean)

    @property
    def offered_per_day(self) -> float:
        return self.figures.offered / self.days if self.days else 0.0


def _service_days(calls: QuerySet[Call], since: dt.datetime, until: dt.datetime) -> int:
    return (
        calls.annotate(local_day=_local_day("offered_at", since, until))
        .values("local_day")
        .distinct()
        .count()
    )


def hourly_figures(
    *, user, first: dt.date, last: dt.date, hotline: HotlineNumber | None = None
) -> list[HourRow]:
    """The 24 hours of the day (local time), each summed over the period, with the number of days that
    had calls so a page can show the mean of a working day."""
    since, until = _bounds(first, last)
    calls = _calls(user, first, last, hotline)
    rows = (
        calls.annotate(local_hour=_local_hour("offered_at", since, until))
        .values("local_hour")
        .annotate(**call_aggregates())
    )
    by_hour = {int(row["local_hour"]): CallFigures.from_row(row) for row in rows}
    days = _service_days(calls, since, until) if by_hour else 0
    return [HourRow(hour, by_hour.get(hour, CallFigures()), days) for hour in HOURS]


# --- per line ---------------------------------------------------------------------------------------------


@dataclass
class LineRow:
    hotline: HotlineNumber | None
    line: HotlineLine | None  # None: calls on no line (blocked, abandoned in the queue, not recorded)
    figures: CallFigures
    busy_seconds: int = 0  # talk + hold of the answered calls: the time the line was taken
    occupancy: float | None = None  # busy time ÷ service hours
    erlang_occupancy: float | None = None  # what the linear hunt group model predicts for this position
    share_of_answered: float | None = None  # of the calls answered on any line of the table

    @property
    def busy_hours(self) -> float:
        return self.busy_seconds / 3600

    @property
    def occupancy_percent(self) -> float | None:
        return None if self.occupancy is None else self.occupancy * 100

    @property
    def erlang_occupancy_percent(self) -> float | None:
        return None if self.erlang_occupancy is None else self.erlang_occupancy * 100

    @property
    def share_percent(self) -> float | None:
        return None if self.share_of_answered is None else self.share_of_answered * 100


@dataclass(frozen=True)
class LineTable:
    rows: list[LineRow]
    service_hours: int  # distinct (day, hour) slots with at least one call: the hours the hotline was open
    offered_load: dict[int, float]  # hotline pk → measured offered load in erlangs during service hours


def line_figures(*, user, first: dt.date, last: dt.date, hotline: HotlineNumber | None = None) -> LineTable:
    """Calls per line of the hunt group (every line of the viewer's hotlines, idle ones too), the share of
    the answered calls each took, its occupancy during service hours and, beside it, the occupancy the
    linear hunt group model gives position k at the measured load: A·(B(k−1) − B(k)). Line 1 carries the
    most — the measured column shows whether the PBX really hunts in order."""
    since, until = _bounds(first, last)
    calls = _calls(user, first, last, hotline)
    figures = call_aggregates()
    # busy_seconds goes first: call_aggregates() annotates a `talk_seconds` sum, and an expression added
    # after it would read F("talk_seconds") as that aggregate instead of the column.
    aggregates = {
        "busy_seconds": Sum(F("talk_seconds") + F("hold_seconds"), filter=figures["answered"].filter),
        **figures,
    }
    grouped = {row["line"]: row for row in calls.values("line").annotate(**aggregates)}
    per_hotline = {
        row["hotline"]: row
        for row in calls.values("hotline").annotate(
            offered=aggregates["offered"],
            busy_seconds=aggregates["busy_seconds"],
            answered=aggregates["answered"],
        )
    }
    slots = (
        calls.annotate(
            local_day=_local_day("offered_at", since, until),
            local_hour=_local_hour("offered_at", since, until),
        )
        .values("local_day", "local_hour")
        .distinct()
        .count()
        if grouped
        else 0
    )
    service_seconds = slots * 3600

    lines = scope_to_user(HotlineLine.objects.select_related("hotline"), user, "hotline__authority")
    if hotline is not None:
        lines = lines.filter(hotline=hotline)
    lines = list(lines.order_by("hotline__authority_id", "hotline__number", "position"))
    offered_load: dict[int, float] = {}
    model: dict[int, list[float]] = {}
    for number in {line.hotline for line in lines}:
        totals = per_hotline.get(number.pk)
        if not totals or not service_seconds or not totals["answered"]:
            continue
        # Offered load = offered calls × mean holding time ÷ service time (holding: of answered calls).
        holding = (totals["busy_seconds"] or 0) / totals["answered"]
        offered_load[number.pk] = totals["offered"] * holding / service_seconds
        positions = sum(1 for line in lines if line.hotline_id == number.pk)
        if offered_load[number.pk] > 0:
            model[number.pk] = erlang.line_loads(positions, offered_load[number.pk])

    rows: list[LineRow] = []
    answered_on_lines = sum(row["answered"] for key, row in grouped.items() if key is not None)
    index_in_hotline: dict[int, int] = {}
    for line in lines:
        row = grouped.get(line.pk, {})
        busy = int(row.get("busy_seconds") or 0)
        position_index = index_in_hotline.get(line.hotline_id, 0)
        index_in_hotline[line.hotline_id] = position_index + 1
        figures = CallFigures.from_row(row)
        rows.append(
            LineRow(
                hotline=line.hotline,
                line=line,
                figures=figures,
                busy_seconds=busy,
                occupancy=busy / service_seconds if service_seconds else None,
                erlang_occupancy=(model.get(line.hotline_id) or [None] * (position_index + 1))[
                    position_index
                ],
                share_of_answered=figures.answered / answered_on_lines if answered_on_lines else None,
            )
        )
    if None in grouped:
        rows.append(LineRow(hotline=None, line=None, figures=CallFigures.from_row(grouped[None])))
    return LineTable(rows=rows, service_hours=slots, offered_load=offered_load)


# --- per agent --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentRow:
    agent: Agent | None  # None: answered calls with no agent recorded
    figures: CallFigures


def agent_figures(
    *, user, first: dt.date, last: dt.date, hotline: HotlineNumber | None = None
) -> list[AgentRow]:
    """Answered calls per agent with the agent's ASA, AHT, service level, completion and satisfaction;
    busiest agent first."""
    grouped = (
        _calls(user, first, last, hotline)
        .filter(outcome=CallOutcome.ANSWERED)
        .values("agent")
        .annotate(**call_aggregates())
    )
    by_agent = {row["agent"]: CallFigures.from_row(row) for row in grouped}
    agents = {a.pk: a for a in Agent.objects.select_related("user").filter(pk__in=[k for k in by_agent if k])}
    rows = [AgentRow(agents.get(pk) if pk else None, figures) for pk, figures in by_agent.items()]
    return sorted(rows, key=lambda r: (r.agent is None, -r.figures.answered, str(r.agent or "")))


# --- the capacity planner's measurements ------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivalProfile:
    """What the planner starts from: mean offered calls per hour of day on the days the hotline had calls,
    and the measured holding times."""

    per_hour: list[float]
    days: int
    offered: int
    answered: int
    line_holding_seconds: float | None  # talk + hold: how long a call keeps a line
    aht_seconds: float | None  # talk + hold + wrap-up: how long it keeps an agent


def arrival_profile(
    *, user, first: dt.date, last: dt.date, hotline: HotlineNumber | None = None
) -> ArrivalProfile:
    since, until = _bounds(first, last)
    calls = _calls(user, first, last, hotline)
    aggregates = call_aggregates()
    answered_filter = aggregates["answered"].filter
    hours = {
        int(row["local_hour"]): row["offered"]
        for row in calls.annotate(local_hour=_local_hour("offered_at", since, until))
        .values("local_hour")
        .annotate(offered=aggregates["offered"])
    }
    totals = calls.aggregate(
        offered=aggregates["offered"],
        answered=aggregates["answered"],
        line_seconds=Sum(F("talk_seconds") + F("hold_seconds"), filter=answered_filter),
        handle_seconds=aggregates["handle_seconds"],
    )
    days = _service_days(calls, since, until) if hours else 0
    answered = totals["answered"] or 0
    return ArrivalProfile(
        per_hour=[hours.get(h, 0) / days if days else 0.0 for h in HOURS],
        days=days,
        offered=totals["offered"] or 0,
        answered=answered,
        line_holding_seconds=(totals["line_seconds"] or 0) / answered if answered else None,
        aht_seconds=(totals["handle_seconds"] or 0) / answered if answered else None,
    )


def active_line_count(hotline: HotlineNumber | None) -> int | None:
    if hotline is None:
        return None
    return hotline.lines.filter(is_active=True).count()
