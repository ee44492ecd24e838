"""Measured values of indicators for any period, and the project's evaluation built from them.

An indicator with a metric key is measured by the module that publishes the key (core.metrics_registry),
over the project's authority; one without is in manual-evidence mode: its annual value is what the
performance officer entered with evidence. Periods are half-open [start, end) of local dates.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bizreg.core.metrics_registry import get_metric, shared_computation
from bizreg.performance.models import Indicator, Project
from bizreg.performance.scoring import Actual, Evaluation, evaluate
from bizreg.performance.selectors.budget import project_executed


def year_bounds(project: Project, as_of: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The project period as a half-open range, cut at `as_of` (exclusive) when given."""
    start, end = project.period_start, project.period_end + dt.timedelta(days=1)
    if as_of is not None:
        end = min(end, max(start, as_of))
    return start, end


def published_metric(indicator: Indicator):
    """The metric that measures the indicator, or None: no key, or a key of a module not installed yet
    (the catalog names those; the indicator is then in manual mode and the lint says so)."""
    if not indicator.metric_key:
        return None
    try:
        return get_metric(indicator.metric_key)
    except KeyError:
        return None


def manual_actual(indicator: Indicator) -> Actual:
    """The value the performance officer entered with evidence (annual only), or nothing."""
    if indicator.manual_value is not None or indicator.manual_text:
        return Actual(value=indicator.manual_value, text=indicator.manual_text, source="manual")
    return Actual()


def indicator_actual(indicator: Indicator, start: dt.date, end: dt.date, *, annual: bool = True) -> Actual:
    """The measured value over [start, end). Manual values count only for the whole year (`annual`)."""
    metric = published_metric(indicator)
    if metric is not None:
        value = metric.compute([indicator.project.authority_id], start, end)
        return Actual(value=Decimal(value), source="metric")
    return manual_actual(indicator) if annual else Actual()


def project_actuals(project: Project, as_of: dt.date | None = None) -> dict[int, Actual]:
    """{indicator id: Actual} over the project year (to `as_of` when given)."""
    start, end = year_bounds(project, as_of)
    annual = as_of is None or end > project.period_end
    indicators = project.indicators.select_related("project").order_by("order", "code")
    return {i.pk: indicator_actual(i, start, end, annual=annual) for i in indicators}


def evaluate_project(project: Project, as_of: dt.date | None = None) -> Evaluation:
    """The self-evaluation of the project with today's data (or data up to `as_of`)."""
    indicators = list(project.indicators.order_by("order", "code"))
    with shared_computation():
        actuals = project_actuals(project, as_of)
    until = None if as_of is None else year_bounds(project, as_of)[1]
    return evaluate(project, indicators, actuals, project_executed(project, until=until))
