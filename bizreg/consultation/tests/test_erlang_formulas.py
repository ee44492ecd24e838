"""Erlang B / Erlang C and the planner's searches: known values, the textbook sum forms, stability for large
N, the linear hunt group's line loads, and every bad input with its Chinese message."""

from __future__ import annotations

import math

import pytest

from bizreg.consultation import erlang
from bizreg.consultation.erlang import ErlangInputError


def erlang_b_sum_form(n: int, a: float) -> float:
    """Aᴺ/N! ÷ Σₖ Aᵏ/k! — only usable for small N (overflows past ~170)."""
    return (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))


def erlang_c_sum_form(n: int, a: float) -> float:
    """REFERENCE.md: [Aᴺ/N! · N/(N−A)] / [Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N! · N/(N−A)]."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_reference_example_five_lines_at_2_5_erlangs_blocks_about_7_percent():
    assert erlang.erlang_b(5, 2.5) == pytest.approx(0.0697311168, abs=1e-9)
    assert round(erlang.erlang_b(5, 2.5) * 100) == 7


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (2, 1.0), (5, 2.5), (10, 7.3), (20, 15.0), (30, 40.0)])
def test_recursive_erlang_b_equals_the_sum_form(n, a):
    assert erlang.erlang_b(n, a) == pytest.approx(erlang_b_sum_form(n, a), rel=1e-12)


def test_erlang_b_is_stable_where_factorials_overflow():
    value = erlang.erlang_b(2000, 1950.0)
    assert 0 < value < 0.05
    assert erlang.erlang_b(10_000, 100.0) == 0.0 or erlang.erlang_b(10_000, 100.0) < 1e-300
    assert erlang.erlang_b(1, 0.0) == 0.0
    # Known table value: 10 lines, 1 % blocking ⇔ about 4.46 erlangs.
    assert erlang.erlang_b(10, 4.46) == pytest.approx(0.01, abs=2e-4)


@pytest.mark.parametrize(("n", "a"), [(2, 1.0), (5, 3.5), (10, 8.0), (25, 20.0)])
def test_erlang_c_equals_the_reference_sum_form(n, a):
    assert erlang.erlang_c(n, a) == pytest.approx(erlang_c_sum_form(n, a), rel=1e-12)


def test_service_level_and_asa_follow_the_reference_formulas():
    n, a, aht, t = 5, 3.5, 180.0, 20.0
    c = erlang_c_sum_form(n, a)
    assert erlang.service_level(n, a, aht, t) == pytest.approx(1 - c * math.exp(-(n - a) * t / aht))
    assert erlang.average_speed_of_answer(n, a, aht) == pytest.approx(c * aht / (n - a))
    # Textbook call-centre example: 10 erlangs (360 calls/h × 100 s)… 13 agents answer ≥ 80 % in 20 s.
    assert erlang.agents_needed(360, 100, 0.8, 20) == 13
    assert erlang.service_level(12, 10, 100, 20) < 0.8 <= erlang.service_level(13, 10, 100, 20)


def test_a_load_at_or_above_the_agents_means_infinite_wait_said_in_chinese():
    assert erlang.erlang_c(3, 3.0) == 1.0
    assert erlang.erlang_c(3, 4.5) == 1.0
    assert erlang.service_level(3, 3.0, 180, 20) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(3, 3.0, 180))
    check = erlang.queue_check(3, 4.5, 180, 20)
    assert not check.stable
    assert "无限增长" in check.message and "无穷大" in check.message and "至少需要 5 名坐席" in check.message
    assert erlang.queue_check(5, 3.5, 180, 20).stable
    assert erlang.queue_check(5, 3.5, 180, 20).message == ""


def test_line_loads_of_the_linear_hunt_group_fall_with_position_and_add_up_to_the_carried_load():
    loads = erlang.line_loads(5, 2.5)
    assert loads == sorted(loads, reverse=True)
    assert loads[0] == pytest.approx(2.5 / 3.5)  # the first line sees every call: A·(1 − B(1))
    assert sum(loads) == pytest.approx(2.5 * (1 - erlang.erlang_b(5, 2.5)))


def test_lines_and_agents_needed_are_the_smallest_that_meet_the_target():
    load = erlang.offered_load(60, 150)  # 60 calls an hour of 2.5 minutes = 2.5 erlangs
    assert load == pytest.approx(2.5)
    lines = erlang.lines_needed(60, 150, 0.01)
    assert erlang.erlang_b(lines, load) <= 0.01 < erlang.erlang_b(lines - 1, load)
    assert lines == 7
    agents = erlang.agents_needed(60, 150, 0.8, 20)
    assert (
        erlang.service_level(agents, load, 150, 20) >= 0.8 > erlang.service_level(agents - 1, load, 150, 20)
    )
    # Answer-rate targets: the hunt group loses exactly the blocked calls.
    assert erlang.lines_for_answer_rate(60, 150, 0.99) == lines
    assert erlang.lines_for_answer_rate(60, 150, 0.93) == 5  # B(5, 2.5) = 6.97 % ≤ 7 %
    assert erlang.agents_for_answer_rate(60, 150, 0.95, 60) >= 4


def test_more_arrivals_never_need_fewer_lines():
    needed = [erlang.lines_needed(arrivals, 180, 0.02) for arrivals in range(0, 400, 20)]
    assert needed == sorted(needed)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang.erlang_b(5, -1), "不能为负数"),
        (lambda: erlang.erlang_b(0, 2.5), "线路数至少为 1"),
        (lambda: erlang.erlang_b(-3, 2.5), "线路数至少为 1"),
        (lambda: erlang.erlang_b(2.5, 2.5), "线路数必须是整数"),
        (lambda: erlang.erlang_b("五", 2.5), "线路数必须是整数"),
        (lambda: erlang.erlang_b(5, "abc"), "话务量必须是数字"),
        (lambda: erlang.erlang_b(5, float("nan")), "有限"),
        (lambda: erlang.erlang_c(0, 1.0), "坐席数至少为 1"),
        (lambda: erlang.offered_load(-5, 180), "每小时来电量不能为负数"),
        (lambda: erlang.offered_load(60, 0), "平均处理时长必须大于 0"),
        (lambda: erlang.offered_load(60, -10), "平均处理时长必须大于 0"),
        (lambda: erlang.lines_needed(60, 180, 0), "目标呼损率必须在 0 与 1 之间"),
        (lambda: erlang.lines_needed(60, 180, 1.5), "目标呼损率必须在 0 与 1 之间"),
        (lambda: erlang.agents_needed(60, 180, 1.0, 20), "目标服务水平必须在 0 与 1 之间"),
        (lambda: erlang.agents_needed(60, 180, 0.8, -1), "服务水平时限不能为负数"),
        (lambda: erlang.lines_for_answer_rate(60, 180, 1.0), "不能为 100%"),
        (lambda: erlang.lines_for_answer_rate(60, 180, 0), "必须大于 0"),
        (lambda: erlang.service_level(5, 2.0, 0, 20), "平均处理时长必须大于 0"),
        (lambda: erlang.erlang_b(erlang.MAX_SERVERS + 1, 1.0), "不能超过"),
    ],
)
def test_bad_inputs_raise_a_clear_chinese_error(call, message):
    with pytest.raises(ErlangInputError) as excinfo:
        call()
    assert message in str(excinfo.value)


def test_bad_input_is_a_value_error_for_callers_that_do_not_know_the_module():
    with pytest.raises(ValueError):
        erlang.erlang_b(5, -1)


def test_plan_hours_gives_each_hour_its_load_blocking_lines_and_agents():
    arrivals = [0.0] * 24
    arrivals[9] = 60.0  # 2.5 erlangs on the lines at 150 s
    arrivals[10] = 120.0
    plan = erlang.plan_hours(
        arrivals_per_hour=arrivals,
        line_holding_seconds=150,
        aht_seconds=180,
        current_lines=5,
        target_answer_rate=0.99,
        target_service_level=0.8,
        answer_within_seconds=20,
    )
    assert len(plan) == 24
    assert plan[0].arrivals == 0 and plan[0].lines_needed == 0 and plan[0].blocking_now == 0
    nine = plan[9]
    assert nine.line_load == pytest.approx(2.5)
    assert nine.agent_load == pytest.approx(3.0)
    assert nine.blocking_now == pytest.approx(0.0697311168)
    assert nine.lines_needed == 7
    assert nine.agents_needed == erlang.agents_needed(60, 180, 0.8, 20)
    assert nine.agents_service_level >= 0.8
    assert plan[10].lines_needed > nine.lines_needed
    assert plan[10].blocking_now > nine.blocking_now


def test_plan_hours_refuses_an_impossible_target():
    with pytest.raises(ErlangInputError, match="100%"):
        erlang.plan_hours(
            arrivals_per_hour=[1.0] * 24,
            line_holding_seconds=150,
            aht_seconds=180,
            current_lines=5,
            target_answer_rate=1.0,
            target_service_level=0.8,
            answer_within_seconds=20,
        )
