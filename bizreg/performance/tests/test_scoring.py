"""The scoring rules of REFERENCE.md, one case each (scoring.py is pure: no database)."""

from __future__ import annotations

from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from bizreg.performance.models import Direction, QualitativeTier, ReverseRule
from bizreg.performance.scoring import (
    FLAG_NO_BUDGET,
    FLAG_NO_DATA,
    FLAG_NOT_EVALUATED,
    FLAG_NOT_MET,
    FLAG_OVERACHIEVED,
    FLAG_TARGET_ZERO,
    Actual,
    check_qualitative_percent,
    evaluate,
    grade_for,
    score_budget,
    score_qualitative,
    score_quantitative,
)


def quantitative(direction=Direction.AT_LEAST, target="100", actual="100", weight="10", **rules):
    return score_quantitative(
        direction=direction,
        target=None if target is None else D(target),
        actual=None if actual is None else D(actual),
        weight=D(weight),
        **rules,
    )


def test_at_least_met_scores_the_full_weight():
    score, achievement, met, flags = quantitative(actual="120")
    assert (score, achievement, met, flags) == (D("10.00"), D("1.2"), True, ())


def test_at_least_short_scores_weight_times_actual_over_target():
    # The seed's 业务服务量: 360,608 of 382,000 → 94.4 % of 10 points.
    score, achievement, met, flags = quantitative(target="382000", actual="360608")
    assert (score, met, flags) == (D("9.44"), False, (FLAG_NOT_MET,))
    assert achievement == D("0.944")


def test_negative_actual_scores_zero_not_below():
    assert quantitative(actual="-5")[0] == D("0.00")


def test_far_above_target_is_flagged_and_optionally_deducted_by_the_deviation():
    score, _a, met, flags = quantitative(actual="200", overachievement_threshold=D("1.5"))
    assert (score, met, flags) == (D("10.00"), True, (FLAG_OVERACHIEVED,))
    # With the deduction: 2.0 × target is 0.5 beyond the 1.5 threshold → half the weight.
    score, *_ = quantitative(actual="200", overachievement_threshold=D("1.5"), overachievement_deduction=True)
    assert score == D("5.00")
    # Within the threshold: no flag, no deduction.
    assert quantitative(actual="140", overachievement_deduction=True)[3] == ()


@pytest.mark.parametrize(
    ("rule", "actual", "expected"),
    [
        (ReverseRule.RATIO, "10", D("10.00")),  # at or under the upper bound: full weight
        (ReverseRule.RATIO, "20", D("5.00")),  # target ÷ actual = 0.5
        (ReverseRule.LINEAR, "15", D("5.00")),  # half way to 2 × target
        (ReverseRule.LINEAR, "20", D("0.00")),  # 2 × target reaches 0
        (ReverseRule.LINEAR, "30", D("0.00")),  # never negative
    ],
)
def test_reverse_indicator_rules(rule, actual, expected):
    score, *_ = quantitative(Direction.AT_MOST, target="10", actual=actual, reverse_rule=rule)
    assert score == expected


def test_equal_direction_loses_the_relative_deviation():
    assert quantitative(Direction.EQUAL, target="100", actual="100")[0] == D("10.00")
    assert quantitative(Direction.EQUAL, target="100", actual="90")[0] == D("9.00")
    assert quantitative(Direction.EQUAL, target="100", actual="110")[0] == D("9.00")


def test_target_zero_never_divides_by_zero():
    assert quantitative(target="0", actual="5")[:4:2] == (D("10.00"), True)
    assert quantitative(target="0", actual="5")[3] == (FLAG_TARGET_ZERO,)
    assert quantitative(Direction.AT_MOST, target="0", actual="0")[0] == D("10.00")
    assert quantitative(Direction.AT_MOST, target="0", actual="3")[0] == D("0.00")
    assert quantitative(Direction.EQUAL, target="0", actual="1")[3] == (FLAG_TARGET_ZERO, FLAG_NOT_MET)


def test_missing_data_scores_zero_with_a_flag():
    assert quantitative(actual=None) == (D(0), None, False, (FLAG_NO_DATA,))
    assert quantitative(target=None) == (D(0), None, False, (FLAG_NO_DATA,))


def test_qualitative_tiers_and_the_evaluators_percentage():
    assert score_qualitative(tier=QualitativeTier.MET, percent=D(90), weight=D(15)) == (D("13.50"), True, ())
    assert score_qualitative(tier=QualitativeTier.PARTIAL, percent=D(70), weight=D(10))[0] == D("7.00")
    # No percentage: the top of the tier; a percentage outside the tier is held inside it.
    assert score_qualitative(tier=QualitativeTier.MET, percent=None, weight=D(5))[0] == D("5.00")
    assert score_qualitative(tier=QualitativeTier.NOT_MET, percent=D(75), weight=D(10))[0] == D("6.00")
    assert score_qualitative(tier="", percent=None, weight=D(5)) == (D(0), False, (FLAG_NOT_EVALUATED,))


def test_a_percentage_outside_its_tier_is_named_for_the_form():
    assert check_qualitative_percent(QualitativeTier.MET, D(85)) is None
    message = check_qualitative_percent(QualitativeTier.PARTIAL, D(85))
    assert "60" in message and "80" in message and "85" in message


def test_budget_execution_rate_times_its_weight_capped_at_the_weight():
    seed = score_budget(adjusted_budget=D("9431000"), executed=D("9430700"), weight=D(10))
    assert seed.score == D("10.00") and seed.rate_percent == D("100.00")
    half = score_budget(adjusted_budget=D("100"), executed=D("50"), weight=D(10))
    assert (half.score, half.rate_percent) == (D("5.00"), D("50.00"))
    over = score_budget(adjusted_budget=D("100"), executed=D("120"), weight=D(10))
    assert over.score == D("10.00")
    none = score_budget(adjusted_budget=D("0"), executed=D("0"), weight=D(10))
    assert (none.score, none.rate, none.flags) == (D(0), None, (FLAG_NO_BUDGET,))


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "优"),
        ("90", "优"),
        ("89.99", "良"),
        ("80", "良"),
        ("79.99", "中"),
        ("60", "中"),
        ("59.99", "差"),
    ],
)
def test_grade_boundaries(total, grade):
    assert grade_for(D(total)) == grade


def test_evaluation_total_is_the_sum_of_the_printed_rows():
    project = SimpleNamespace(
        adjusted_budget=D("100"),
        budget_weight=D("10"),
        reverse_rule=ReverseRule.RATIO,
        overachievement_threshold=D("1.5"),
        overachievement_deduction=False,
    )

    def indicator(pk, level1, direction, weight, target=None, **extra):
        fields = {"qualitative_tier": "", "qualitative_percent": None} | extra
        return SimpleNamespace(
            pk=pk,
            code=str(pk),
            name=f"指标{pk}",
            level1=level1,
            direction=direction,
            weight=D(weight),
            target_value=None if target is None else D(target),
            **fields,
        )

    indicators = [
        indicator(1, "output", Direction.AT_LEAST, "50", "3"),
        indicator(2, "benefit", Direction.QUALITATIVE, "30", qualitative_tier=QualitativeTier.MET),
        indicator(3, "satisfaction", Direction.AT_LEAST, "10", "90"),
    ]
    actuals = {1: Actual(value=D("2")), 2: Actual(text="有效"), 3: Actual()}
    result = evaluate(project, indicators, actuals, executed=D("100"))
    # 10 (budget) + 50 × 2/3 = 33.33 + 30 + 0 (no data)
    assert [r.score for r in result.indicators] == [D("33.33"), D("30.00"), D("0")]
    assert result.total == D("73.33") and result.grade == "中"
    assert result.by_level1 == {"output": D("33.33"), "benefit": D("30.00"), "satisfaction": D("0")}
