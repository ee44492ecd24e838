"""Scoring of a self-evaluation (REFERENCE.md, 财预〔2020〕10号 and local practice). No database access:
the caller passes the project, its indicators and their measured actuals.

- Quantitative (≥): met → full weight; else weight × actual ÷ target. Far above target (actual ÷ target
  beyond the project's threshold) is flagged for explanation, with an optional deduction by the deviation.
- Reverse (≤): met → full weight; else by the project's rule: target ÷ actual × weight, or a linear deduction
  reaching 0 at 2 × target.
- Equal (=): full weight when equal, else reduced by the relative deviation.
- Qualitative: the evaluator's tier (80–100 %, 60–80 %, 0–60 % of the weight) and the percentage within it.
- Budget execution: rate = executed ÷ adjusted budget, score = min(rate, 100 %) × the budget weight.
- Grade: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 below.

Every row is rounded to two decimals as printed in the 自评表, and the total is the sum of the printed rows.
A target of 0 and missing data never raise: they score by the rules below and carry a flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bizreg.performance.models import QUALITATIVE_TIER_RANGES, Direction, QualitativeTier, ReverseRule

TWO = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

FLAG_NO_DATA = "无实际数据"
FLAG_TARGET_ZERO = "目标值为 0"
FLAG_OVERACHIEVED = "超额完成较多，需说明目标设定是否偏低"
FLAG_NOT_EVALUATED = "定性指标尚未评价"
FLAG_NOT_MET = "未达到年度指标值"
FLAG_NO_BUDGET = "调整后预算数为 0"


def q2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Actual:
    """An indicator's measured value: a number, or a qualitative text; None when nothing is recorded."""

    value: Decimal | None = None
    text: str = ""
    source: str = "none"  # "metric", "manual" or "none"

    @property
    def missing(self) -> bool:
        return self.value is None and not self.text


@dataclass(frozen=True)
class IndicatorScore:
    indicator_id: int | None
    code: str
    name: str
    weight: Decimal
    score: Decimal
    achievement: Decimal | None  # actual ÷ target, where it means something
    met: bool
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class BudgetScore:
    adjusted_budget: Decimal
    executed: Decimal
    rate: Decimal | None  # a fraction, 0.9999…
    weight: Decimal
    score: Decimal
    flags: tuple[str, ...] = ()

    @property
    def rate_percent(self) -> Decimal | None:
        return None if self.rate is None else q2(self.rate * HUNDRED)


@dataclass(frozen=True)
class Evaluation:
    budget: BudgetScore
    indicators: tuple[IndicatorScore, ...]
    total: Decimal
    grade: str
    by_level1: Mapping[str, Decimal] = field(default_factory=dict)


def grade_for(total: Decimal) -> str:
    if total >= 90:
        return "优"
    if total >= 80:
        return "良"
    if total >= 60:
        return "中"
    return "差"


def score_budget(*, adjusted_budget: Decimal, executed: Decimal, weight: Decimal) -> BudgetScore:
    if adjusted_budget <= 0:
        return BudgetScore(adjusted_budget, executed, None, weight, ZERO, (FLAG_NO_BUDGET,))
    rate = executed / adjusted_budget
    return BudgetScore(adjusted_budget, executed, rate, weight, q2(min(rate, ONE) * weight))


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    return max(ZERO, numerator / denominator)


def score_quantitative(
    *,
    direction: str,
    target: Decimal | None,
    actual: Decimal | None,
    weight: Decimal,
    reverse_rule: str = ReverseRule.RATIO,
    overachievement_threshold: Decimal = Decimal("1.5"),
    overachievement_deduction: bool = False,
) -> tuple[Decimal, Decimal | None, bool, tuple[str, ...]]:
    """(score, achievement, met, flags) of one numeric indicator."""
    if actual is None or target is None:
        return ZERO, None, False, (FLAG_NO_DATA,)
    flags: list[str] = []
    if direction == Direction.AT_MOST:
        if actual <= target:
            return q2(weight), None if target == 0 else actual / target, True, ()
        if target <= 0:
            return ZERO, None, False, (FLAG_TARGET_ZERO, FLAG_NOT_MET)
        if reverse_rule == ReverseRule.LINEAR:
            share = _ratio(2 * target - actual, target)
        else:
            share = _ratio(target, actual)
        return q2(weight * min(share, ONE)), actual / target, False, (FLAG_NOT_MET,)
    if direction == Direction.EQUAL:
        if actual == target:
            return q2(weight), ONE if target else None, True, ()
        if target == 0:
            return ZERO, None, False, (FLAG_TARGET_ZERO, FLAG_NOT_MET)
        share = max(ZERO, ONE - abs(actual - target) / abs(target))
        return q2(weight * share), actual / target, False, (FLAG_NOT_MET,)
    # ≥ (the default direction)
    if target <= 0:
        # Any non-negative actual meets a target of 0; there is no ratio to report.
        met = actual >= target
        return (
            (q2(weight) if met else ZERO),
            None,
            met,
            (FLAG_TARGET_ZERO,) if met else (FLAG_TARGET_ZERO, FLAG_NOT_MET),
        )
    achievement = actual / target
    if achievement < 1:
        return q2(weight * _ratio(actual, target)), achievement, False, (FLAG_NOT_MET,)
    score = weight
    if achievement > overachievement_threshold:
        flags.append(FLAG_OVERACHIEVED)
        if overachievement_deduction:
            excess = achievement - overachievement_threshold
            score = weight * max(ZERO, ONE - excess)
    return q2(score), achievement, True, tuple(flags)


def score_qualitative(
    *, tier: str, percent: Decimal | None, weight: Decimal
) -> tuple[Decimal, bool, tuple[str, ...]]:
    """(score, met, flags): the evaluator's tier and percentage of the weight."""
    if not tier:
        return ZERO, False, (FLAG_NOT_EVALUATED,)
    low, high = QUALITATIVE_TIER_RANGES[QualitativeTier(tier)]
    if percent is None:
        percent = high
    percent = min(max(percent, low), high)
    return q2(weight * percent / HUNDRED), tier == QualitativeTier.MET, ()


def check_qualitative_percent(tier: str, percent: Decimal) -> str | None:
    """The message when `percent` lies outside the tier's range, else None (used by forms and services)."""
    low, high = QUALITATIVE_TIER_RANGES[QualitativeTier(tier)]
    if not low <= percent <= high:
        label = QualitativeTier(tier).label
        return f"“{label}”档次的得分比例应在 {low}%–{high}% 之间，当前为 {percent}%。"
    return None


def score_indicator(indicator, actual: Actual, project) -> IndicatorScore:
    """Score one Indicator (model instance or anything with its attributes) with the project's rules."""
    if indicator.direction == Direction.QUALITATIVE:
        score, met, flags = score_qualitative(
            tier=indicator.qualitative_tier, percent=indicator.qualitative_percent, weight=indicator.weight
        )
        return IndicatorScore(
            indicator.pk, indicator.code, indicator.name, indicator.weight, score, None, met, flags
        )
    score, achievement, met, flags = score_quantitative(
        direction=indicator.direction,
        target=indicator.target_value,
        actual=actual.value,
        weight=indicator.weight,
        reverse_rule=project.reverse_rule,
        overachievement_threshold=project.overachievement_threshold,
        overachievement_deduction=project.overachievement_deduction,
    )
    return IndicatorScore(
        indicator.pk, indicator.code, indicator.name, indicator.weight, score, achievement, met, flags
    )


def evaluate(project, indicators: Iterable, actuals: Mapping[int, Actual], executed: Decimal) -> Evaluation:
    """The whole self-evaluation: budget row, one row per indicator, total and grade."""
    budget = score_budget(
        adjusted_budget=project.adjusted_budget, executed=executed, weight=project.budget_weight
    )
    rows = []
    by_level1: dict[str, Decimal] = {}
    for indicator in indicators:
        row = score_indicator(indicator, actuals.get(indicator.pk, Actual()), project)
        rows.append(row)
        by_level1[indicator.level1] = by_level1.get(indicator.level1, ZERO) + row.score
    total = budget.score + sum((r.score for r in rows), ZERO)
    return Evaluation(
        budget=budget, indicators=tuple(rows), total=q2(total), grade=grade_for(total), by_level1=by_level1
    )
