"""双监控 (财预〔2019〕136号): budget execution against time elapsed, and each indicator's projection to the
year end, with traffic lights and a suggested adjustment when a target will be missed (seed problem 一).

Dates: `as_of` is the last day counted (截至 that day, inclusive); internally every figure runs over the
half-open range [period_start, as_of + 1 day), the convention of the metric registry and the payments
(`payments_total(until=as_of + 1 day)`). At as_of = the project's last day the figures are the year's.

Cost: the cockpit measures each indicator once (its year-to-date value, plus the same metric over up to
three earlier years for the seasonality of additive metrics) and hands the results to every chart and to
the evaluation, so a page costs one pass over the metrics, not one per chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from bizreg.core.metrics_registry import get_metric
from bizreg.core.money import yuan_to_wan
from bizreg.performance.models import (
    Direction,
    Indicator,
    MonthlySnapshot,
    Payment,
    PaymentMilestone,
    Project,
    ProjectStatus,
)
from bizreg.performance.scoring import Actual, evaluate
from bizreg.performance.selectors.budget import monthly_execution, payments_total, projects_for
from bizreg.performance.selectors.measurements import manual_actual

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
DAY = dt.timedelta(days=1)

# Budget lights: execution is compared with the share of the period elapsed, in percentage points.
# Green while execution lags time by at most 10 points, yellow down to 20 points behind, red beyond.
BUDGET_YELLOW_GAP = Decimal(-10)
BUDGET_RED_GAP = Decimal(-20)

# Indicator lights: green when the projection meets the target, yellow when it falls short by at most 5 %
# of the target, red otherwise; grey when there is nothing to project (manual, qualitative, no data).
INDICATOR_YELLOW_SHORTFALL = Decimal("0.05")

# Seasonality is read from up to this many earlier years of the same metric.
SEASONAL_YEARS = 3
SUGGESTION_DIGITS = 3  # a suggested target keeps three significant figures

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"
LIGHT_LABELS = {GREEN: "正常", YELLOW: "关注", RED: "预警", GREY: "无法测算"}

METHOD_SEASONAL = "seasonal"  # YTD ÷ the share earlier years had reached by the same day
METHOD_LINEAR = "linear"  # YTD ÷ the share of days elapsed (no earlier data)
METHOD_RATE = "rate"  # a rate or mean: the YTD value is the projection
METHOD_YEAR_END = "year_end"  # the year is over: the actual is the year's value
METHOD_NONE = "none"


def as_of_in_year(project: Project, day: dt.date) -> dt.date:
    """Clamp a date into the project period (a day after the year shows the year-end state)."""
    return min(max(day, project.period_start), project.period_end)


def _percent(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * HUNDRED).quantize(Decimal("0.01"), ROUND_HALF_UP)


def elapsed_share(project: Project, as_of: dt.date) -> Decimal:
    """Share of the project period elapsed by the end of `as_of` (0..1)."""
    total = (project.period_end - project.period_start).days + 1
    done = (as_of_in_year(project, as_of) - project.period_start).days + 1
    if as_of < project.period_start:
        done = 0
    return Decimal(done) / Decimal(total) if total > 0 else ONE


# --- budget ---------------------------------------------------------------------------------------------


def budget_light(execution_percent: Decimal | None, time_percent: Decimal) -> str:
    if execution_percent is None:
        return GREY
    gap = execution_percent - time_percent
    if gap >= BUDGET_YELLOW_GAP:
        return GREEN
    if gap >= BUDGET_RED_GAP:
        return YELLOW
    return RED


@dataclass(frozen=True)
class Progress:
    """Execution of one budget (the project's or a line's) against the time elapsed."""

    label: str
    budget: Decimal
    executed: Decimal
    rate_percent: Decimal | None  # None when the budget is 0
    time_percent: Decimal
    light: str

    @property
    def gap(self) -> Decimal | None:
        """执行进度 − 时间进度, in percentage points (negative: behind)."""
        return None if self.rate_percent is None else self.rate_percent - self.time_percent

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "budget_wan": float(yuan_to_wan(self.budget)),
            "executed_wan": float(yuan_to_wan(self.executed)),
            "rate": None if self.rate_percent is None else float(self.rate_percent),
            "time": float(self.time_percent),
            "gap": None if self.gap is None else float(self.gap),
            "light": self.light,
        }


def _progress(label: str, budget: Decimal, executed: Decimal, time_percent: Decimal) -> Progress:
    rate = _percent(executed / budget) if budget > 0 else None
    return Progress(label, budget, executed, rate, time_percent, budget_light(rate, time_percent))


@dataclass(frozen=True)
class BudgetProgress:
    as_of: dt.date
    total: Progress  # against the adjusted budget (调整后预算数)
    lines: tuple[Progress, ...]
    line_ids: tuple[int, ...]

    @property
    def light(self) -> str:
        return self.total.light


def budget_progress(project: Project, as_of: dt.date) -> BudgetProgress:
    """Payments to the end of `as_of` against the adjusted budget and the share of the period elapsed."""
    until = as_of + DAY
    time_percent = _percent(elapsed_share(project, as_of))
    executed = payments_total(project, until=until)
    # One grouped query for every line, cut at as_of (selectors.budget.line_execution has no date cut).
    paid = dict(
        Payment.objects.filter(project=project, paid_on__lt=until)
        .values_list("line_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    lines = list(project.lines.order_by("order", "code"))
    return BudgetProgress(
        as_of=as_of,
        total=_progress("项目合计", project.adjusted_budget, executed, time_percent),
        lines=tuple(
            _progress(line.name, line.amount, paid.get(line.pk, ZERO), time_percent) for line in lines
        ),
        line_ids=tuple(line.pk for line in lines),
    )


# --- indicators -----------------------------------------------------------------------------------------


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def is_rate(indicator: Indicator) -> bool:
    """A rate or mean does not add up over time: its YTD value is the year's best estimate."""
    return indicator.unit.strip() == "%" or indicator.direction in (Direction.AT_MOST, Direction.EQUAL)


def round_down_significant(value: Decimal, digits: int = SUGGESTION_DIGITS, *, up: bool = False) -> Decimal:
    """`value` cut to `digits` significant figures (toward zero, or away from it with `up`)."""
    if value == 0:
        return ZERO
    exponent = value.adjusted() - digits + 1
    quantum = Decimal(1).scaleb(exponent)
    rounded = (value / quantum).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * quantum
    return rounded.quantize(ONE) if exponent >= 0 else rounded.normalize()


def _num(value: Decimal | None) -> str:
    """A number as printed in Chinese text: thousands separators, no trailing zeros."""
    if value is None:
        return "—"
    value = value.quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,f}"


@dataclass(frozen=True)
class Suggestion:
    target: Decimal
    reason: str
    url: str  # "" until the adjustment page exists


@dataclass(frozen=True)
class Projection:
    indicator_id: int
    as_of: dt.date
    ytd: Decimal | None
    projected: Decimal | None
    method: str
    share: Decimal | None  # the share of the year's total reached by as_of (seasonal or linear)
    light: str
    note: str = ""  # why the light is grey, or how the projection was made
    warning: str = ""
    suggestion: Suggestion | None = None
    seasonal_years: tuple[int, ...] = field(default_factory=tuple)

    @property
    def light_label(self) -> str:
        return LIGHT_LABELS[self.light]


@dataclass(frozen=True)
class _Measured:
    """What one pass over an indicator's metric found (shared by the projection and the evaluation)."""

    actual: Actual
    history: tuple[tuple[int, Decimal, Decimal], ...] = ()  # (year, to the same day, full year)
    error: str = ""


def _measure(indicator: Indicator, as_of: dt.date) -> _Measured:
    project = indicator.project
    start, until = project.period_start, as_of_in_year(project, as_of) + DAY
    annual = until > project.period_end
    try:
        metric = get_metric(indicator.metric_key) if indicator.metric_key else None
    except KeyError:
        metric = None
    if metric is None:
        # Manual mode, as in the evaluation page and the report (the same score everywhere).
        actual = manual_actual(indicator) if annual else Actual()
        error = f"数据来源指标键 {indicator.metric_key} 尚未由任何模块发布" if indicator.metric_key else ""
        return _Measured(actual, error=error)
    ids = [project.authority_id]
    ytd = Decimal(metric.compute(ids, start, until))
    history: list[tuple[int, Decimal, Decimal]] = []
    numeric = not indicator.is_qualitative and indicator.target_value is not None
    if numeric and not is_rate(indicator) and not annual:
        end = project.period_end + DAY
        for years in range(1, SEASONAL_YEARS + 1):
            p_start, p_until, p_end = (_shift_years(d, years) for d in (start, until, end))
            full = Decimal(metric.compute(ids, p_start, p_end))
            if full > 0:
                history.append((start.year - years, Decimal(metric.compute(ids, p_start, p_until)), full))
    return _Measured(Actual(ytd, "", "metric"), tuple(history))


def _light(direction: str, projected: Decimal, target: Decimal) -> str:
    if direction == Direction.AT_MOST:
        if projected <= target:
            return GREEN
        return YELLOW if projected <= target * (ONE + INDICATOR_YELLOW_SHORTFALL) else RED
    if direction == Direction.EQUAL:
        deviation = abs(projected - target)
        if deviation == 0:
            return GREEN
        return YELLOW if deviation <= abs(target) * INDICATOR_YELLOW_SHORTFALL else RED
    if projected >= target:
        return GREEN
    return YELLOW if projected >= target * (ONE - INDICATOR_YELLOW_SHORTFALL) else RED


def adjustment_url(indicator: Indicator, target: Decimal, reason: str) -> str:
    try:
        base = reverse("performance:adjustment_create", args=[indicator.pk])
    except NoReverseMatch:  # the indicators area's page is not there yet
        return ""
    return base + "?" + urlencode({"target": f"{target:f}", "reason": reason, "suggested": 1})


def _project(indicator: Indicator, as_of: dt.date, measured: _Measured) -> Projection:
    def grey(note: str, ytd: Decimal | None = None) -> Projection:
        return Projection(indicator.pk, as_of, ytd, None, METHOD_NONE, None, GREY, note)

    if indicator.is_qualitative:
        return grey("定性指标，年终按评价档次计分")
    if indicator.target_value is None:
        return grey("未设定年度指标值")
    if measured.error:
        return grey(measured.error)
    if measured.actual.source != "metric":
        return grey("手工填报指标，年中无法测算进度", measured.actual.value)
    target, ytd = Decimal(indicator.target_value), measured.actual.value
    if target == 0:
        return grey("年度指标值为 0，无法测算完成进度", ytd)
    project = indicator.project
    day = as_of_in_year(project, as_of)
    seasonal_years: tuple[int, ...] = ()
    if is_rate(indicator):
        if ytd == 0 and indicator.direction == Direction.AT_LEAST:
            # Rates over no records are 0 by the metrics' convention: nothing to project from.
            return grey("截至目前暂无数据", ytd)
        method, share, projected = METHOD_RATE, None, ytd
    elif day >= project.period_end:
        method, share, projected = METHOD_YEAR_END, ONE, ytd
    else:
        partial = sum((h[1] for h in measured.history), ZERO)
        full = sum((h[2] for h in measured.history), ZERO)
        if full > 0 and partial > 0:
            # Pooled over the earlier years: a year with more activity weighs more than a quiet one.
            method, share = METHOD_SEASONAL, partial / full
            seasonal_years = tuple(h[0] for h in measured.history)
        else:
            if ytd == 0 and full == 0:
                return grey("截至目前暂无数据", ytd)
            method, share = METHOD_LINEAR, elapsed_share(project, day)
        projected = ytd / share if share > 0 else ytd
    projected = projected.quantize(Decimal("0.01"), ROUND_HALF_UP)
    light = _light(indicator.direction, projected, target)
    unit = indicator.unit
    if method == METHOD_SEASONAL:
        basis = f"按截至{day.month}月{day.day}日累计值及往年同期进度（占全年 {_num(share * HUNDRED)}%）测算"
    elif method == METHOD_LINEAR:
        basis = f"按截至{day.month}月{day.day}日累计值及时间进度（占全年 {_num(share * HUNDRED)}%）测算"
    else:
        basis = f"按截至{day.month}月{day.day}日累计值测算"
    if light == GREEN:
        return Projection(
            indicator.pk, as_of, ytd, projected, method, share, light, basis, seasonal_years=seasonal_years
        )
    worse = "高于" if indicator.direction == Direction.AT_MOST else "低于"
    if indicator.direction == Direction.EQUAL:
        worse = "偏离"
    reason = f"{basis}，全年预计 {_num(projected)}{unit}，{worse}年度指标值 {_num(target)}{unit}"
    warning = f"预计无法完成年度指标：{reason}。"
    new_target = round_down_significant(projected, up=indicator.direction == Direction.AT_MOST)
    suggestion = None
    if new_target > 0:  # a target of 0 is refused by the indicator rules: then warn only
        suggestion = Suggestion(new_target, reason, adjustment_url(indicator, new_target, reason))
    return Projection(
        indicator.pk,
        as_of,
        ytd,
        projected,
        method,
        share,
        light,
        basis,
        warning,
        suggestion,
        seasonal_years,
    )


def indicator_projection(indicator: Indicator, as_of: dt.date) -> Projection:
    """The indicator's year-to-date value and its projection to the year end, with a light."""
    return _project(indicator, as_of, _measure(indicator, as_of))


# --- trends ---------------------------------------------------------------------------------------------


def _snapshots(indicators: Iterable[Indicator]) -> dict[int, dict[int, Decimal | None]]:
    """{indicator id: {month 1..12: ytd value}} for the indicators' fiscal year, in one query."""
    indicators = list(indicators)
    out: dict[int, dict[int, Decimal | None]] = {i.pk: {} for i in indicators}
    years = {i.pk: i.project.fiscal_year for i in indicators}
    rows = MonthlySnapshot.objects.filter(indicator__in=[i.pk for i in indicators]).values_list(
        "indicator_id", "month", "ytd_value"
    )
    for indicator_id, month, ytd in rows:
        if month.year == years[indicator_id]:
            out[indicator_id][month.month] = ytd
    return out


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def monthly_trend(
    indicator: Indicator,
    projection: Projection | None = None,
    snapshots: dict[int, Decimal | None] | None = None,
) -> dict:
    """Year-to-date per month (from the monthly snapshots) against the target, plus the projection line
    from the last measured point to December. Pass `projection`/`snapshots` already computed to avoid
    measuring again."""
    if snapshots is None:
        snapshots = _snapshots([indicator])[indicator.pk]
    actual = [_float(snapshots.get(m)) for m in range(1, 13)]
    line: list[float | None] = [None] * 12
    if projection is not None and projection.projected is not None:
        month = min(projection.as_of, indicator.project.period_end).month
        start_value = projection.ytd if projection.ytd is not None else ZERO
        if projection.method == METHOD_RATE:
            for m in range(month, 13):
                line[m - 1] = float(projection.projected)
        else:
            # A straight line from the measured point to the projected year-end value.
            steps = 12 - month
            for m in range(month, 13):
                t = Decimal(m - month) / Decimal(steps) if steps else ONE
                line[m - 1] = float(start_value + (projection.projected - start_value) * t)
        if actual[month - 1] is None:
            actual[month - 1] = float(start_value)
    target = _float(indicator.target_value)
    return {
        "indicator_id": indicator.pk,
        "name": indicator.name,
        "unit": indicator.unit,
        "months": [f"{m}月" for m in range(1, 13)],
        "actual": actual,
        "projection": line,
        "target": target,
    }


# --- the cockpit ----------------------------------------------------------------------------------------


def projected_execution(project: Project, as_of: dt.date) -> Decimal:
    """执行数 expected at year end: paid up to `as_of` plus what the contracts' payment schedules still owe
    within the year (instalments due after `as_of`, less what was already paid against them)."""
    until = as_of + DAY
    paid = payments_total(project, until)
    later = PaymentMilestone.objects.filter(
        contract__project=project, due_on__gte=until, due_on__lte=project.period_end
    ).annotate(paid=Sum("payments__amount", filter=Q(payments__paid_on__lt=until)))
    owed = sum((max(m.amount - (m.paid or 0), Decimal(0)) for m in later), Decimal(0))
    return min(paid + owed, max(project.adjusted_budget, paid))


def cockpit_projects(user) -> QuerySet[Project]:
    return projects_for(user).order_by("-fiscal_year", "code")


def default_project(user) -> Project | None:
    """The user's latest project in execution, else the latest project at all."""
    projects = projects_for(user).order_by("-fiscal_year", "-period_start", "-id")
    return projects.filter(status=ProjectStatus.ACTIVE).first() or projects.first()


def default_as_of(project: Project, today: dt.date) -> dt.date:
    return as_of_in_year(project, today)


def cockpit(project: Project, as_of: dt.date, *, can_adjust: bool = False) -> dict:
    """Everything the cockpit page shows, JSON-ready (numbers as floats, dates ISO) for ECharts.

    Each indicator's metric is measured once here; the lights, the trends and the evaluation reuse it.
    """
    as_of = as_of_in_year(project, as_of)
    until = as_of + DAY
    indicators = list(project.indicators.select_related("project").order_by("order", "code"))
    measured = {i.pk: _measure(i, as_of) for i in indicators}
    projections = {i.pk: _project(i, as_of, measured[i.pk]) for i in indicators}
    snapshots = _snapshots(indicators)
    budget = budget_progress(project, as_of)
    # The evaluation with the same actuals (selectors.measurements.evaluate_project(project, until) would
    # measure every indicator a second time).
    evaluation = evaluate(
        project, indicators, {pk: m.actual for pk, m in measured.items()}, payments_total(project, until)
    )
    # The same evaluation with each numeric indicator at its year-end projection and the budget at what
    # the payment schedules will have paid: what the year will score if nothing changes.
    projected_actuals = {
        pk: Actual(value=projections[pk].projected, source="projection")
        if projections[pk].projected is not None
        else m.actual
        for pk, m in measured.items()
    }
    projected = evaluate(project, indicators, projected_actuals, projected_execution(project, as_of))
    monthly = monthly_execution(project)
    months_shown = as_of.month if as_of.year == project.fiscal_year else 12
    names = {pk: p.label for pk, p in zip(budget.line_ids, budget.lines, strict=True)}
    lines_monthly = [
        {
            "name": names.get(line_id, str(line_id)),
            "data": [float(yuan_to_wan(v)) if m < months_shown else None for m, v in enumerate(values)],
        }
        for line_id, values in monthly.items()
    ]
    rows = []
    for indicator in indicators:
        p = projections[indicator.pk]
        rows.append(
            {
                "id": indicator.pk,
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "target": indicator.target_display or "—",
                "ytd": _float(p.ytd),
                "projected": _float(p.projected),
                "light": p.light,
                "light_label": p.light_label,
                "note": p.note,
                "warning": p.warning,
                "suggested_target": _float(p.suggestion.target) if p.suggestion else None,
                "adjust_url": p.suggestion.url if (p.suggestion and can_adjust) else "",
            }
        )
    trends = [
        monthly_trend(i, projections[i.pk], snapshots[i.pk])
        for i in indicators
        if not i.is_qualitative and i.target_value is not None
    ]
    counts = {light: sum(1 for r in rows if r["light"] == light) for light in LIGHT_LABELS}
    return {
        "project": {"id": project.pk, "name": str(project), "year": project.fiscal_year},
        "as_of": as_of.isoformat(),
        "as_of_label": f"{as_of.year}年{as_of.month}月{as_of.day}日",
        "budget": budget.total.as_json(),
        "lines": [p.as_json() for p in budget.lines],
        "months": [f"{m}月" for m in range(1, 13)],
        "lines_monthly": lines_monthly,
        "indicators": rows,
        "light_counts": counts,
        "trends": trends,
        "evaluation": {"total": float(evaluation.total), "grade": evaluation.grade},
        "projected_evaluation": {"total": float(projected.total), "grade": projected.grade},
    }
