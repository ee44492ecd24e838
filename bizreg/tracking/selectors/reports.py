"""Reads behind the periodic tracking report and the tracking metrics.

`report_figures` gathers every figure of one report (visits, appeals, migration, the watch list, the
business-environment issues) in a few GROUP BY queries over the authority's rows, as plain JSON values, so
the report freezes them in TrackingReport.content. The base querysets (`visits_done`, `plans_due`,
`appeals_closed`, `migrations_between`) are the ones metrics.py counts, so a report and the performance
module never disagree on a figure.

Periods are half-open [start, end) of local dates; dates in the figures are ISO strings, rates are
percentages with two decimals as strings ("85.00"), counts are ints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear
from django.http import Http404

from bizreg.core.metrics_registry import percent, period_bounds
from bizreg.core.scoping import scope_to_user
from bizreg.enterprises.models import IndustrySection
from bizreg.tracking.models import (
    Appeal,
    AppealCategory,
    AppealState,
    BusinessIssue,
    ImprovementMeasure,
    MeasureState,
    Migration,
    MigrationDirection,
    MoveOutReason,
    PlanReason,
    PlanState,
    ReportPeriod,
    TrackingReport,
    Visit,
    VisitMethod,
    VisitPlan,
    VisitState,
    WatchEntry,
    WatchRule,
)

VIEW = "tracking.view_trackingreport"
NOT_FOUND = "没有找到该报告。"
# The trend charts show at least this many months ending with the period, so a monthly report still
# shows where the month stands.
TREND_MONTHS = 6
TOP = 5
LIST_LIMIT = 30
UNPLANNED = "unplanned"
UNPLANNED_LABEL = "计划外走访"


# --- the reports themselves ---------------------------------------------------------------------------------


def reports_visible_to(user) -> QuerySet[TrackingReport]:
    if not (getattr(user, "is_authenticated", False) and user.has_perm(VIEW)):
        return TrackingReport.objects.none()
    return scope_to_user(TrackingReport.objects.select_related("authority", "generated_by"), user)


def report_for(*, user, pk: Any) -> TrackingReport:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    report = reports_visible_to(user).filter(pk=pk).first()
    if report is None:
        raise Http404(NOT_FOUND)
    return report


def report_listing(*, user, params: Mapping[str, Any]) -> QuerySet[TrackingReport]:
    """The visible reports, newest period first; filters: period ("month" | "quarter"), year, q (number)."""
    queryset = reports_visible_to(user).defer("content")
    period = str(params.get("period") or "")
    if period in ReportPeriod.values:
        queryset = queryset.filter(period=period)
    year = params.get("year")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    if year:
        queryset = queryset.filter(period_start__year=year)
    q = str(params.get("q") or "").strip()[:50]
    if q:
        queryset = queryset.filter(number__icontains=q)
    return queryset.order_by("-period_start", "period", "-generated_at", "-id")


# --- base querysets (shared with metrics.py) ----------------------------------------------------------------


def visits_done(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> QuerySet[Visit]:
    """Submitted visits made in [start, end)."""
    return Visit.objects.filter(
        authority_id__in=list(authority_ids),
        state=VisitState.SUBMITTED,
        visited_on__gte=start,
        visited_on__lt=end,
    )


def plans_due(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> QuerySet[VisitPlan]:
    """Visit plans falling due in [start, end), cancelled ones excluded."""
    return VisitPlan.objects.filter(
        authority_id__in=list(authority_ids), due_on__gte=start, due_on__lt=end
    ).exclude(state=PlanState.CANCELLED)


def appeals_closed(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> QuerySet[Appeal]:
    """Appeals closed (办结) in [start, end), by their closing time."""
    since, until = period_bounds(start, end)
    return Appeal.objects.filter(
        authority_id__in=list(authority_ids),
        state=AppealState.CLOSED,
        closed_at__gte=since,
        closed_at__lt=until,
    )


def appeals_raised(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> QuerySet[Appeal]:
    return Appeal.objects.filter(
        authority_id__in=list(authority_ids), raised_on__gte=start, raised_on__lt=end
    )


def migrations_between(authority_ids: Sequence[int], start: dt.date, end: dt.date) -> QuerySet[Migration]:
    return Migration.objects.filter(
        authority_id__in=list(authority_ids), moved_on__gte=start, moved_on__lt=end
    )


def closure_counts(queryset: QuerySet[Appeal]) -> dict[str, int]:
    """closed, on_time, rated (closed with a satisfaction score) and satisfied (score ≥ 4)."""
    return queryset.aggregate(
        closed=Count("pk"),
        on_time=Count("pk", filter=Q(closed_on_time=True)),
        rated=Count("pk", filter=Q(satisfaction__isnull=False)),
        satisfied=Count("pk", filter=Q(satisfaction__gte=4)),
    )


# --- helpers ----------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of the months from start's month up to (not including) end."""
    months, day = [], dt.date(start.year, start.month, 1)
    while day < end:
        months.append(day)
        day = add_months(day, 1)
    return months


def month_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def _rate(part: int, whole: int) -> str:
    """The percentage as text, "" when there is nothing to divide by (shown as "—", not a false 0 %)."""
    return str(percent(part, whole)) if whole else ""


def _by_month(queryset: QuerySet, field: str, **counts) -> dict[tuple[int, int], dict[str, int]]:
    rows = (
        queryset.annotate(y=ExtractYear(field), m=ExtractMonth(field))
        .values("y", "m")
        .annotate(**counts)
        .order_by()
    )
    return {(row["y"], row["m"]): row for row in rows}


def _count_by(queryset: QuerySet, field: str) -> dict[str, int]:
    return {row[field] or "": row["n"] for row in queryset.values(field).annotate(n=Count("pk")).order_by()}


INDUSTRY_LABELS = dict(IndustrySection.choices)


# --- visits ------------------------------------------------------------------------------------------------


def _visit_figures(ids: list[int], start: dt.date, end: dt.date, trend: list[dt.date]) -> dict:
    done = visits_done(ids, start, end)
    planned = plans_due(ids, start, end)
    done_total = done.count()
    planned_total = planned.count()
    planned_done = planned.filter(state=PlanState.DONE).count()
    methods = _count_by(done, "method")
    done_by_reason = _count_by(done, "plan__reason")
    planned_by_reason = _count_by(planned, "reason")
    by_reason = []
    for key, label in PlanReason.choices:
        if planned_by_reason.get(key) or done_by_reason.get(key):
            by_reason.append(
                {
                    "key": key,
                    "label": label,
                    "planned": planned_by_reason.get(key, 0),
                    "done": done_by_reason.get(key, 0),
                }
            )
    if done_by_reason.get(""):
        by_reason.append(
            {"key": UNPLANNED, "label": UNPLANNED_LABEL, "planned": 0, "done": done_by_reason[""]}
        )
    trend_start, trend_end = trend[0], add_months(trend[-1], 1)
    done_months = _by_month(visits_done(ids, trend_start, trend_end), "visited_on", n=Count("pk"))
    planned_months = _by_month(plans_due(ids, trend_start, trend_end), "due_on", n=Count("pk"))
    by_month = [
        {
            "month": f"{m.year}-{m.month:02d}",
            "label": month_label(m),
            "planned": planned_months.get((m.year, m.month), {}).get("n", 0),
            "done": done_months.get((m.year, m.month), {}).get("n", 0),
        }
        for m in trend
    ]
    return {
        "planned": planned_total,
        "planned_done": planned_done,
        "done": done_total,
        "completion_rate": _rate(planned_done, planned_total),
        "by_method": [
            {"key": key, "label": label, "count": methods.get(key, 0)} for key, label in VisitMethod.choices
        ],
        "by_reason": by_reason,
        "by_month": by_month,
    }


# --- appeals -----------------------------------------------------------------------------------------------


def _closure_row(counts: Mapping[str, int]) -> dict:
    return {
        "closed": counts.get("closed", 0),
        "on_time": counts.get("on_time", 0),
        "on_time_rate": _rate(counts.get("on_time", 0), counts.get("closed", 0)),
        "rated": counts.get("rated", 0),
        "satisfied": counts.get("satisfied", 0),
        "satisfaction_rate": _rate(counts.get("satisfied", 0), counts.get("rated", 0)),
    }


def _appeal_figures(ids: list[int], start: dt.date, end: dt.date, as_of: dt.date) -> dict:
    raised = appeals_raised(ids, start, end)
    closed = appeals_closed(ids, start, end)
    totals = closure_counts(closed)
    average = closed.filter(satisfaction__isnull=False).aggregate(avg=Avg("satisfaction"))["avg"]
    raised_by_category = _count_by(raised, "category")
    closed_by_category = {
        row["category"]: row
        for row in closed.values("category")
        .annotate(
            closed=Count("pk"),
            on_time=Count("pk", filter=Q(closed_on_time=True)),
            rated=Count("pk", filter=Q(satisfaction__isnull=False)),
            satisfied=Count("pk", filter=Q(satisfaction__gte=4)),
        )
        .order_by()
    }
    by_category = []
    for key, label in AppealCategory.choices:
        if raised_by_category.get(key) or key in closed_by_category:
            by_category.append(
                {"key": key, "label": label, "raised": raised_by_category.get(key, 0)}
                | _closure_row(closed_by_category.get(key, {}))
            )
    routed = {
        row["department__name"] or "": row["n"]
        for row in raised.values("department__name").annotate(n=Count("pk")).order_by()
    }
    closed_by_department = {
        row["department__name"] or "": row
        for row in closed.values("department__name")
        .annotate(
            closed=Count("pk"),
            on_time=Count("pk", filter=Q(closed_on_time=True)),
            rated=Count("pk", filter=Q(satisfaction__isnull=False)),
            satisfied=Count("pk", filter=Q(satisfaction__gte=4)),
        )
        .order_by()
    }
    by_department = [
        {"name": name or "未转办（专员直接办结）", "raised": routed.get(name, 0)}
        | _closure_row(closed_by_department.get(name, {}))
        for name in sorted(set(routed) | set(closed_by_department), key=lambda n: (n == "", n))
    ]
    _since, until = period_bounds(as_of, as_of + dt.timedelta(days=1))
    overdue = (
        Appeal.objects.filter(authority_id__in=ids, raised_on__lte=as_of, due_on__lt=as_of)
        .exclude(state=AppealState.WITHDRAWN)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=until))
        .select_related("enterprise", "department")
        .order_by("due_on", "id")
    )
    overdue_count = overdue.count()
    return {
        "raised": raised.count(),
        **_closure_row(totals),
        "average_satisfaction": (
            str(Decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if average else ""
        ),
        "by_category": by_category,
        "by_department": by_department,
        "overdue_count": overdue_count,
        "overdue": [
            {
                "number": appeal.number,
                "enterprise": appeal.enterprise.name,
                "category": appeal.get_category_display(),
                "department": appeal.department.name if appeal.department_id else "",
                "due_on": appeal.due_on.isoformat(),
                "days": (as_of - appeal.due_on).days,
            }
            for appeal in overdue[:LIST_LIMIT]
        ],
    }


# --- migration and the watch list ---------------------------------------------------------------------------


def _migration_figures(ids: list[int], start: dt.date, end: dt.date, trend: list[dt.date]) -> dict:
    period = migrations_between(ids, start, end)
    direction = _count_by(period, "direction")
    moved_in, moved_out = direction.get(MigrationDirection.IN, 0), direction.get(MigrationDirection.OUT, 0)
    trend_rows = _by_month(
        migrations_between(ids, trend[0], add_months(trend[-1], 1)),
        "moved_on",
        moved_in=Count("pk", filter=Q(direction=MigrationDirection.IN)),
        moved_out=Count("pk", filter=Q(direction=MigrationDirection.OUT)),
    )
    by_month = []
    for m in trend:
        row = trend_rows.get((m.year, m.month), {})
        i, o = row.get("moved_in", 0), row.get("moved_out", 0)
        by_month.append(
            {"month": f"{m.year}-{m.month:02d}", "label": month_label(m), "in": i, "out": o, "net": i - o}
        )
    industries = (
        period.values("industry")
        .annotate(
            moved_in=Count("pk", filter=Q(direction=MigrationDirection.IN)),
            moved_out=Count("pk", filter=Q(direction=MigrationDirection.OUT)),
            total=Count("pk"),
        )
        .order_by("-total", "industry")[:TOP]
    )

    def regions(direction_value: str) -> list[dict]:
        rows = (
            period.filter(direction=direction_value)
            .values("counterpart_region")
            .annotate(n=Count("pk"))
            .order_by("-n", "counterpart_region")[:TOP]
        )
        return [{"region": row["counterpart_region"] or "未知", "count": row["n"]} for row in rows]

    reasons = _count_by(period.filter(direction=MigrationDirection.OUT), "reason")
    return {
        "in": moved_in,
        "out": moved_out,
        "net": moved_in - moved_out,
        "by_month": by_month,
        "industries": [
            {
                "key": row["industry"],
                "label": INDUSTRY_LABELS.get(row["industry"], row["industry"] or "未知"),
                "in": row["moved_in"],
                "out": row["moved_out"],
            }
            for row in industries
        ],
        "destinations": regions(MigrationDirection.OUT),
        "origins": regions(MigrationDirection.IN),
        "reasons": sorted(
            (
                {"key": key, "label": label, "count": reasons[key]}
                for key, label in MoveOutReason.choices
                if reasons.get(key)
            ),
            key=lambda row: -row["count"],
        ),
    }


def _watch_figures(ids: list[int], start: dt.date, end: dt.date) -> dict:
    new = WatchEntry.objects.filter(authority_id__in=ids, flagged_on__gte=start, flagged_on__lt=end)
    by_rule = _count_by(new, "rule")
    return {
        "new": sum(by_rule.values()),
        "by_rule": [
            {"key": key, "label": label, "count": by_rule.get(key, 0)} for key, label in WatchRule.choices
        ],
        "watching": WatchEntry.objects.filter(authority_id__in=ids, state="watching", flagged_on__lt=end)
        .values("enterprise_id")
        .distinct()
        .count(),
    }


# --- business-environment issues ----------------------------------------------------------------------------


def _issue_figures(ids: list[int], start: dt.date, end: dt.date, as_of: dt.date) -> dict:
    issues = BusinessIssue.objects.filter(authority_id__in=ids)
    found = issues.filter(found_on__gte=start, found_on__lt=end).count()
    resolved = issues.filter(resolved_on__gte=start, resolved_on__lt=end).count()
    # The issues open at some time in the period: found before its end and not resolved before its start.
    relevant = issues.filter(found_on__lt=end).filter(Q(resolved_on__isnull=True) | Q(resolved_on__gte=start))
    unresolved = relevant.filter(Q(resolved_on__isnull=True) | Q(resolved_on__gte=end)).count()
    rows = list(
        relevant.select_related("owner")
        .annotate(
            measure_count=Count("measures", distinct=True),
            measures_done=Count("measures", filter=Q(measures__state=MeasureState.DONE), distinct=True),
        )
        .order_by("-found_on", "-id")[:LIST_LIMIT]
    )
    measures = (
        ImprovementMeasure.objects.filter(issue_id__in=[issue.pk for issue in rows])
        .select_related("issue", "owner_department")
        .order_by("issue__found_on", "issue_id", "due_on", "id")
    )
    measure_rows = list(measures)
    return {
        "found": found,
        "resolved": resolved,
        "unresolved": unresolved,
        "measures_total": len(measure_rows),
        "measures_done": sum(1 for m in measure_rows if m.state == MeasureState.DONE),
        "measures_overdue": sum(1 for m in measure_rows if m.state != MeasureState.DONE and m.due_on < as_of),
        "items": [
            {
                "title": issue.title,
                "category": issue.get_category_display(),
                "state": issue.get_state_display(),
                "owner": str(issue.owner),
                "found_on": issue.found_on.isoformat(),
                "measures": f"{issue.measures_done}/{issue.measure_count}",
            }
            for issue in rows
        ],
        "measures": [
            {
                "issue": m.issue.title,
                "description": m.description,
                "department": m.owner_department.name if m.owner_department_id else "",
                "due_on": m.due_on.isoformat(),
                "state": m.get_state_display(),
                "done_on": m.done_on.isoformat() if m.done_on else "",
            }
            for m in measure_rows[: LIST_LIMIT * 2]
        ],
    }


def report_figures(*, authority_id: int, start: dt.date, end: dt.date, as_of: dt.date) -> dict:
    """Every figure of the report for [start, end); `as_of` (the period's last day, or today for a period
    still running) is the day overdue appeals and measures are judged on."""
    ids = [authority_id]
    months = months_between(start, end)
    trend = months_between(add_months(months[-1], 1 - max(TREND_MONTHS, len(months))), end)
    return {
        "visits": _visit_figures(ids, start, end, trend),
        "appeals": _appeal_figures(ids, start, end, as_of),
        "migration": _migration_figures(ids, start, end, trend),
        "watch": _watch_figures(ids, start, end),
        "issues": _issue_figures(ids, start, end, as_of),
    }
