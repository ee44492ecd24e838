"""THE acceptance test of issue 5: the Erlang formulas agree with discrete-event simulations within sampling
error — Erlang B with a simulation of the LINEAR hunt group (blocking, and each line's occupancy), Erlang C
with a simulation of a FIFO queue (P(wait), service level, ASA). "Agree" = |simulated − formula| ≤ 3
standard errors (batch means). Fixed seeds make every run identical; the whole file runs in a few seconds
and needs no database. Hand-worked table values anchor both sides, and a test shows the check rejects a
wrong formula."""

from __future__ import annotations

import time

import pytest

from bizreg.consultation import erlang, simulation
from bizreg.consultation.erlang import ErlangInputError

CALLS = 60_000
SIGMAS = 3


def agrees(estimate: simulation.Estimate, exact: float) -> bool:
    return abs(estimate.mean - exact) <= SIGMAS * estimate.standard_error


@pytest.mark.parametrize(
    ("lines", "load", "seed"),
    [
        (5, 2.5, 1),  # REFERENCE.md's example: ≈ 7 %
        (1, 0.5, 2),
        (3, 2.0, 3),
        (5, 4.0, 4),
        (8, 5.0, 5),
        (10, 12.0, 6),  # overload: most calls lost
    ],
)
def test_hunt_group_simulation_agrees_with_erlang_b(lines, load, seed):
    result = simulation.simulate_hunt_group(lines=lines, load=load, calls=CALLS, seed=seed)
    exact = erlang.erlang_b(lines, load)
    assert result.blocking.standard_error > 0
    assert agrees(result.blocking, exact), (result.blocking, exact)
    # …and each line's occupancy agrees with A·(B(k−1) − B(k)).
    for estimate, expected in zip(result.line_occupancy, erlang.line_loads(lines, load), strict=True):
        assert agrees(estimate, expected), (estimate, expected)


def test_reference_example_simulated_blocking_is_about_7_percent():
    result = simulation.simulate_hunt_group(lines=5, load=2.5, calls=CALLS, seed=11)
    assert 0.06 < result.blocking.mean < 0.08
    assert result.blocking.low < erlang.erlang_b(5, 2.5) < result.blocking.high or agrees(
        result.blocking, erlang.erlang_b(5, 2.5)
    )


# Anchors worked out by hand, independent of erlang.py, so a formula and a simulation that were wrong in
# the same way could not agree with each other and pass:
# B(5, 2) = (2⁵/5!) ÷ Σₖ₌₀⁵ 2ᵏ/k! = (32/120) ÷ (1 + 2 + 2 + 4/3 + 2/3 + 4/15) = 4/109 ≈ 0.0367, the table
# value; C(2, 1): two agents at one erlang, P(wait) = (A²/2!·2/(2−A)) ÷ (1 + A + A²/2!·2/(2−A)) = 1 ÷ 3.
B_5_LINES_2_ERLANGS = 4 / 109
C_2_AGENTS_1_ERLANG = 1 / 3


def test_known_table_values_anchor_both_the_formula_and_the_simulation():
    assert erlang.erlang_b(5, 2.0) == pytest.approx(B_5_LINES_2_ERLANGS, rel=1e-12)
    assert round(erlang.erlang_b(5, 2.0), 4) == 0.0367
    hunt = simulation.simulate_hunt_group(lines=5, load=2.0, calls=CALLS, seed=51)
    assert agrees(hunt.blocking, B_5_LINES_2_ERLANGS), hunt.blocking
    assert erlang.erlang_c(2, 1.0) == pytest.approx(C_2_AGENTS_1_ERLANG, rel=1e-12)
    queue = simulation.simulate_queue(agents=2, load=1.0, calls=CALLS, seed=52)
    assert agrees(queue.wait_probability, C_2_AGENTS_1_ERLANG), queue.wait_probability


def test_the_agreement_check_would_catch_a_wrong_formula():
    """The check has power: the simulation's error is small enough to reject the usual mistakes — one line
    too few or too many, Erlang C where Erlang B belongs, the load off by 15 % (e.g. wrap-up counted as line
    holding time) — by far more than 3 standard errors."""
    hunt = simulation.simulate_hunt_group(lines=5, load=2.0, calls=CALLS, seed=51)
    wrong = {
        "4 lines": erlang.erlang_b(4, 2.0),
        "6 lines": erlang.erlang_b(6, 2.0),
        "Erlang C": erlang.erlang_c(5, 2.0),
        "load +15 %": erlang.erlang_b(5, 2.3),
        "load −15 %": erlang.erlang_b(5, 1.7),
    }
    for mistake, value in wrong.items():
        assert abs(hunt.blocking.mean - value) > 10 * hunt.blocking.standard_error, mistake


def test_linear_hunting_loads_line_one_most_and_each_next_line_less():
    result = simulation.simulate_hunt_group(lines=5, load=2.5, calls=CALLS, seed=21)
    means = [estimate.mean for estimate in result.line_occupancy]
    assert means == sorted(means, reverse=True)
    # The drop between neighbours is far beyond the sampling error.
    for upper, lower in zip(result.line_occupancy, result.line_occupancy[1:], strict=False):
        assert upper.mean - lower.mean > 3 * (upper.standard_error + lower.standard_error)


def test_erlang_b_does_not_depend_on_the_holding_time_distribution():
    result = simulation.simulate_hunt_group(lines=5, load=2.5, calls=CALLS, seed=31, holding="constant")
    assert agrees(result.blocking, erlang.erlang_b(5, 2.5))


@pytest.mark.parametrize(
    ("agents", "load", "seed"), [(1, 0.5, 41), (3, 2.0, 42), (5, 3.5, 43), (10, 7.0, 44)]
)
def test_queue_simulation_agrees_with_erlang_c(agents, load, seed):
    aht, within = 180.0, 20.0
    result = simulation.simulate_queue(
        agents=agents, load=load, aht_seconds=aht, answer_within_seconds=within, calls=CALLS, seed=seed
    )
    assert agrees(result.wait_probability, erlang.erlang_c(agents, load)), (
        result.wait_probability,
        erlang.erlang_c(agents, load),
    )
    assert agrees(result.service_level, erlang.service_level(agents, load, aht, within))
    assert agrees(result.asa_seconds, erlang.average_speed_of_answer(agents, load, aht))


def test_same_seed_same_result_other_seed_other_result():
    a = simulation.simulate_hunt_group(lines=5, load=2.5, calls=5_000, seed=7)
    b = simulation.simulate_hunt_group(lines=5, load=2.5, calls=5_000, seed=7)
    c = simulation.simulate_hunt_group(lines=5, load=2.5, calls=5_000, seed=8)
    assert a == b
    assert a.blocking.mean != c.blocking.mean


def test_confidence_interval_is_the_t_quantile_times_the_standard_error():
    result = simulation.simulate_hunt_group(lines=5, load=2.5, calls=5_000, seed=9, batches=10)
    assert result.blocking.half_width == pytest.approx(2.262 * result.blocking.standard_error)
    assert result.blocking.low < result.blocking.mean < result.blocking.high


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lines": 0, "load": 2.5}, "线路数必须是正整数"),
        ({"lines": 5, "load": -1}, "话务量必须大于 0"),
        ({"lines": 5, "load": 2.5, "calls": 0}, "仿真来电数必须是正整数"),
        ({"lines": 5, "load": 2.5, "calls": simulation.MAX_CALLS + 1}, "不能超过"),
        ({"lines": 5, "load": 2.5, "calls": 1_000, "batches": 1}, "批次数至少为 2"),
        ({"lines": 5, "load": 2.5, "calls": 100, "batches": 20}, "至少为批次数"),
        ({"lines": 5, "load": 2.5, "warmup_calls": -1}, "预热来电数不能为负数"),
        ({"lines": 5, "load": 2.5, "holding": "weibull"}, "未知的通话时长分布"),
    ],
)
def test_bad_hunt_group_simulation_inputs(kwargs, message):
    with pytest.raises(ErlangInputError, match=message):
        simulation.simulate_hunt_group(**{"calls": 2_000, **kwargs})


def test_queue_simulation_refuses_a_load_the_agents_cannot_carry():
    with pytest.raises(ErlangInputError, match="排队无限增长"):
        simulation.simulate_queue(agents=3, load=3.0, calls=2_000)
    with pytest.raises(ErlangInputError, match="服务水平时限不能为负数"):
        simulation.simulate_queue(agents=3, load=2.0, calls=2_000, answer_within_seconds=-1)


def test_the_simulations_are_fast_enough_for_a_page_request():
    started = time.perf_counter()
    simulation.simulate_hunt_group(lines=5, load=2.5, calls=20_000, seed=1)
    assert time.perf_counter() - started < 1.0
