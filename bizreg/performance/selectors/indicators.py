"""Reads of indicators, their adjustments, measurements for a chosen period and snapshots; every read is
scoped to the user's authorities (another authority's object answers 404 like a missing one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404

from bizreg.core.scoping import scope_to_user
from bizreg.performance.models import (
    AdjustmentStatus,
    Indicator,
    IndicatorAdjustment,
    MonthlySnapshot,
    PerformanceTransitionLog,
    Project,
)
from bizreg.performance.scoring import Actual, IndicatorScore, evaluate, score_indicator
from bizreg.performance.selectors.budget import project_executed, project_for, projects_for
from bizreg.performance.selectors.measurements import indicator_actual, published_metric, year_bounds

PAGE_SIZE = 30

__all__ = ["project_for", "projects_for"]


def indicators_visible_to(user) -> QuerySet[Indicator]:
    return scope_to_user(
        Indicator.objects.select_related("project", "project__authority"), user, "project__authority"
    )


def indicator_for(user, pk: int) -> Indicator:
    try:
        return indicators_visible_to(user).get(pk=pk)
    except (Indicator.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该绩效指标。") from None


def project_indicators(project: Project) -> QuerySet[Indicator]:
    return project.indicators.select_related("project").order_by("order", "code")


def adjustments_visible_to(user) -> QuerySet[IndicatorAdjustment]:
    return scope_to_user(
        IndicatorAdjustment.objects.select_related(
            "indicator", "indicator__project", "counterpart", "requested_by", "decided_by"
        ),
        user,
        "indicator__project__authority",
    )


def adjustment_for(user, pk: int) -> IndicatorAdjustment:
    try:
        return adjustments_visible_to(user).get(pk=pk)
    except (IndicatorAdjustment.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该调整申请。") from None


def adjustment_search(*, user, filters: Mapping[str, Any]) -> QuerySet[IndicatorAdjustment]:
    qs = adjustments_visible_to(user)
    if filters.get("project"):
        qs = qs.filter(indicator__project=filters["project"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    return qs.order_by("-created_at", "-id")


def adjustment_page(*, user, filters: Mapping[str, Any], page: Any) -> Page:
    return Paginator(adjustment_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def pending_adjustment_count(user) -> int:
    return adjustments_visible_to(user).filter(status=AdjustmentStatus.REQUESTED).count()


def indicator_adjustments(indicator: Indicator) -> QuerySet[IndicatorAdjustment]:
    """The indicator's history: its own requests and those that moved weight to or from it."""
    from django.db.models import Q

    return (
        IndicatorAdjustment.objects.filter(Q(indicator=indicator) | Q(counterpart=indicator))
        .select_related("indicator", "counterpart", "requested_by", "decided_by")
        .order_by("-created_at", "-id")
    )


def adjustment_log(adjustment: IndicatorAdjustment) -> QuerySet[PerformanceTransitionLog]:
    return PerformanceTransitionLog.objects.filter(
        object_type=IndicatorAdjustment._meta.model_name, object_id=adjustment.pk
    ).select_related("actor")


def indicator_snapshots(indicator: Indicator) -> QuerySet[MonthlySnapshot]:
    return indicator.snapshots.order_by("month")


# --- measurement over a chosen period ------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    start: dt.date
    end: dt.date  # exclusive
    actual: Actual
    drill_down_url: str
    unit: str
    error: str = ""

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def drill_down_url(indicator: Indicator, start: dt.date, end: dt.date, *, viewer) -> str:
    """The module's list of the records behind the figure, or "" (manual mode, no list declared, or a
    list the viewer may not open)."""
    metric = published_metric(indicator)
    if metric is None or not metric.offers_records_to(viewer):
        return ""
    return metric.drill_down_url([indicator.project.authority_id], start, end)


def safe_actual(indicator: Indicator, start: dt.date, end: dt.date, *, annual: bool) -> tuple[Actual, str]:
    """indicator_actual, but a metric key whose module is not installed falls back to the manual value
    (the catalog names keys of modules not built yet), with a notice instead of an error."""
    notice = ""
    if indicator.metric_key and published_metric(indicator) is None:
        notice = f"指标键 {indicator.metric_key} 尚未发布，按手工填报计量。"
    return indicator_actual(indicator, start, end, annual=annual), notice


def measure(indicator: Indicator, start: dt.date, end: dt.date, *, viewer) -> Measurement:
    """The actual over [start, end): the metric for any period; a manual value only for the whole year."""
    year_start, year_end = year_bounds(indicator.project)
    annual = start <= year_start and end >= year_end
    actual, notice = safe_actual(indicator, start, end, annual=annual)
    url = "" if notice else drill_down_url(indicator, start, end, viewer=viewer)
    return Measurement(start, end, actual, url, indicator.unit, notice)


@dataclass(frozen=True)
class SnapshotRow:
    month: dt.date
    month_value: Decimal | None
    ytd_value: Decimal | None
    computed_at: dt.datetime
    month_url: str
    ytd_url: str


def snapshot_rows(indicator: Indicator, *, viewer) -> list[SnapshotRow]:
    from bizreg.performance.services.indicators import next_month

    rows = []
    start = indicator.project.period_start
    for s in indicator_snapshots(indicator):
        end = next_month(s.month)
        rows.append(
            SnapshotRow(
                s.month,
                s.month_value,
                s.ytd_value,
                s.computed_at,
                drill_down_url(indicator, max(s.month, start), end, viewer=viewer),
                drill_down_url(indicator, start, end, viewer=viewer),
            )
        )
    return rows


# --- the 自评表 on screen --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRow:
    indicator: Indicator
    score: IndicatorScore
    actual: Actual
    adjusted: bool
    drill_down_url: str
    notice: str = ""

    @property
    def original_target_display(self) -> str:
        i = self.indicator
        if i.is_qualitative or i.original_target_value is None:
            return i.original_target_text
        text = f"{i.original_target_value.normalize():f}"
        return text + i.unit if i.direction == "eq" else f"{i.get_direction_display()}{text}{i.unit}"


def evaluation_table(project: Project, *, viewer) -> dict:
    """The 自评表 rows and the funds block: measurements.evaluate_project's rules, with keys of modules not
    built yet read as manual values rather than failing the page."""
    start, end = year_bounds(project)
    indicators = list(project_indicators(project))
    actuals: dict[int, Actual] = {}
    notices: dict[int, str] = {}
    for indicator in indicators:
        actuals[indicator.pk], notices[indicator.pk] = safe_actual(indicator, start, end, annual=True)
    evaluation = evaluate(project, indicators, actuals, project_executed(project))
    by_pk = {i.pk: i for i in indicators}
    rows = []
    for score in evaluation.indicators:
        indicator = by_pk[score.indicator_id]
        adjusted = indicator.original_weight is not None and (
            indicator.original_target_value != indicator.target_value
            or indicator.original_target_text != indicator.target_text
            or indicator.original_weight != indicator.weight
        )
        url = "" if notices[indicator.pk] else drill_down_url(indicator, start, end, viewer=viewer)
        rows.append(
            EvaluationRow(indicator, score, actuals[indicator.pk], adjusted, url, notices[indicator.pk])
        )
    return {"evaluation": evaluation, "rows": rows}


def score_for(indicator: Indicator, actual: Actual) -> IndicatorScore:
    return score_indicator(indicator, actual, indicator.project)
