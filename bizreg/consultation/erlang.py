"""Erlang B and Erlang C: the teletraffic formulas of the capacity planner (pure functions, no Django).

Load A (erlangs) = arrivals per hour × mean holding time (s) ÷ 3600.

- Erlang B (lines, blocked calls lost, the hunt group of the hotline): the recursive form
  B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)) — each step stays in [0, 1], so it is stable for any N
  (the textbook Aᴺ/N! ÷ Σ Aᵏ/k! overflows past N ≈ 170).
- Erlang C (agents, callers wait in a FIFO queue): P(wait) = N·B / (N − A·(1 − B)) with B = B(N, A), the
  same value as REFERENCE.md's sum form, computed without factorials. SL(t) = 1 − P(wait)·e^(−(N−A)t/AHT),
  ASA = P(wait)·AHT / (N − A). With A ≥ N the queue grows without bound: every caller waits, for ever.
- The linear hunt group (each call tries line 1, then 2, …): line k carries A·(B(k−1) − B(k)) erlangs, so
  its occupancy falls with its position — the first line is the busiest.

Bad input raises ErlangInputError (a ValueError) with a Chinese message a form can show as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Searches for the smallest sufficient N stop here: far beyond any hotline, and a bound on the loop.
MAX_SERVERS = 100_000


class ErlangInputError(ValueError):
    """An input the formulas cannot take (negative load, no lines, a target out of range …)."""


def _check_load(load: float) -> float:
    try:
        value = float(load)
    except (TypeError, ValueError):
        raise ErlangInputError("话务量必须是数字。") from None
    if math.isnan(value) or math.isinf(value):
        raise ErlangInputError("话务量必须是有限的数字。")
    if value < 0:
        raise ErlangInputError("话务量（爱尔兰）不能为负数。")
    return value


def _check_servers(count: int, what: str) -> int:
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int):
        raise ErlangInputError(f"{what}必须是整数。")
    if count < 1:
        raise ErlangInputError(f"{what}至少为 1。")
    if count > MAX_SERVERS:
        raise ErlangInputError(f"{what}不能超过 {MAX_SERVERS}。")
    return count


def _check_seconds(value: float, what: str, *, allow_zero: bool = False) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ErlangInputError(f"{what}必须是数字。") from None
    if math.isnan(seconds) or math.isinf(seconds):
        raise ErlangInputError(f"{what}必须是有限的数字。")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ErlangInputError(f"{what}必须大于 0。" if not allow_zero else f"{what}不能为负数。")
    return seconds


def _check_fraction(value: float, what: str) -> float:
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise ErlangInputError(f"{what}必须是数字。") from None
    if not 0 < fraction < 1:
        raise ErlangInputError(f"{what}必须在 0 与 1 之间（不含 0 和 1）。")
    return fraction


def offered_load(arrivals_per_hour: float, holding_seconds: float) -> float:
    """Offered load in erlangs: arrivals per hour × mean holding time (s) ÷ 3600."""
    try:
        arrivals = float(arrivals_per_hour)
    except (TypeError, ValueError):
        raise ErlangInputError("每小时来电量必须是数字。") from None
    if math.isnan(arrivals) or math.isinf(arrivals) or arrivals < 0:
        raise ErlangInputError("每小时来电量不能为负数。")
    holding = _check_seconds(holding_seconds, "平均处理时长")
    return arrivals * holding / 3600.0


def erlang_b(lines: int, load: float) -> float:
    """Probability that a call finds all `lines` busy and is lost (blocked calls cleared)."""
    lines = _check_servers(lines, "线路数")
    load = _check_load(load)
    blocking = 1.0
    for n in range(1, lines + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_b_series(lines: int, load: float) -> list[float]:
    """[B(0), B(1), …, B(lines)]: every prefix of the hunt group at once (what the line loads need)."""
    lines = _check_servers(lines, "线路数")
    load = _check_load(load)
    series = [1.0]
    for n in range(1, lines + 1):
        previous = series[-1]
        series.append(load * previous / (n + load * previous))
    return series


def line_loads(lines: int, load: float) -> list[float]:
    """Erlangs carried by each line of a linear hunt group, first line first: A·(B(k−1) − B(k)).

    Being a single server, a line's carried erlangs are also its occupancy (share of time busy)."""
    load = _check_load(load)
    series = erlang_b_series(lines, load)
    return [load * (series[k - 1] - series[k]) for k in range(1, lines + 1)]


class UnstableQueueError(ErlangInputError):
    """A ≥ N: more work arrives than the agents can do; the queue grows without bound."""


def _unstable_message(agents: int, load: float) -> str:
    return (
        f"话务量 A = {load:.2f} 爱尔兰不小于坐席数 N = {agents}：来电多于坐席能处理的量，排队会无限增长，"
        f"平均等待时间为无穷大。至少需要 {math.floor(load) + 1} 名坐席。"
    )


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller has to wait (all agents busy), FIFO queue, nobody hangs up.

    A ≥ N has no steady state: every caller waits, so 1.0 is returned; average_speed_of_answer() says
    the wait is infinite and queue_check() explains it in words."""
    agents = _check_servers(agents, "坐席数")
    load = _check_load(load)
    if load == 0:
        return 0.0
    if load >= agents:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def service_level(agents: int, load: float, aht_seconds: float, answer_within_seconds: float) -> float:
    """Share of callers answered within t seconds: 1 − P(wait)·e^(−(N−A)·t/AHT); 0 when A ≥ N."""
    agents = _check_servers(agents, "坐席数")
    load = _check_load(load)
    aht = _check_seconds(aht_seconds, "平均处理时长")
    within = _check_seconds(answer_within_seconds, "服务水平时限", allow_zero=True)
    if load >= agents:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * within / aht)


def average_speed_of_answer(agents: int, load: float, aht_seconds: float) -> float:
    """ASA in seconds: P(wait)·AHT / (N − A); math.inf when A ≥ N (the queue never empties)."""
    agents = _check_servers(agents, "坐席数")
    load = _check_load(load)
    aht = _check_seconds(aht_seconds, "平均处理时长")
    if load >= agents:
        return math.inf
    return erlang_c(agents, load) * aht / (agents - load)


@dataclass(frozen=True)
class QueueCheck:
    """Erlang C figures of N agents at load A, with the plain-words verdict when A ≥ N."""

    agents: int
    load: float
    stable: bool
    wait_probability: float
    service_level: float
    asa_seconds: float
    message: str


def queue_check(agents: int, load: float, aht_seconds: float, answer_within_seconds: float) -> QueueCheck:
    agents = _check_servers(agents, "坐席数")
    load = _check_load(load)
    stable = load < agents
    return QueueCheck(
        agents=agents,
        load=load,
        stable=stable,
        wait_probability=erlang_c(agents, load),
        service_level=service_level(agents, load, aht_seconds, answer_within_seconds),
        asa_seconds=average_speed_of_answer(agents, load, aht_seconds),
        message="" if stable else _unstable_message(agents, load),
    )


def lines_for_load(load: float, target_blocking: float) -> int:
    """The fewest lines whose Erlang B blocking is at most the target (0 < target < 1)."""
    load = _check_load(load)
    target = _check_fraction(target_blocking, "目标呼损率")
    blocking = 1.0
    for n in range(1, MAX_SERVERS + 1):
        blocking = load * blocking / (n + load * blocking)
        if blocking <= target:
            return n
    raise ErlangInputError(f"话务量过大：{MAX_SERVERS} 条线路仍达不到目标呼损率。")


def lines_needed(arrivals_per_hour: float, aht_seconds: float, target_blocking: float) -> int:
    """The fewest lines of a loss system (the hunt group) keeping blocking at or below the target."""
    return lines_for_load(offered_load(arrivals_per_hour, aht_seconds), target_blocking)


def agents_for_load(
    load: float, aht_seconds: float, target_service_level: float, answer_within_seconds: float
) -> int:
    """The fewest agents answering at least the target share of callers within t seconds (Erlang C)."""
    load = _check_load(load)
    aht = _check_seconds(aht_seconds, "平均处理时长")
    target = _check_fraction(target_service_level, "目标服务水平")
    within = _check_seconds(answer_within_seconds, "服务水平时限", allow_zero=True)
    if load == 0:
        return 1
    # B(n) is carried along the search, so each step costs O(1) instead of a fresh recursion.
    blocking = 1.0
    for n in range(1, MAX_SERVERS + 1):
        blocking = load * blocking / (n + load * blocking)
        if n <= load:
            continue
        wait_probability = n * blocking / (n - load * (1.0 - blocking))
        if 1.0 - wait_probability * math.exp(-(n - load) * within / aht) >= target:
            return n
    raise ErlangInputError(f"话务量过大：{MAX_SERVERS} 名坐席仍达不到目标服务水平。")


def agents_needed(
    arrivals_per_hour: float, aht_seconds: float, target_service_level: float, answer_within_seconds: float
) -> int:
    """The fewest agents of a queue reaching the service level target (e.g. 0.8 within 20 s)."""
    return agents_for_load(
        offered_load(arrivals_per_hour, aht_seconds), aht_seconds, target_service_level, answer_within_seconds
    )


# --- answer-rate targets ----------------------------------------------------------------------------------
# 接听率 = answered ÷ offered. On the hunt group (no queue) a call is lost exactly when it is blocked, so
# answer rate = 1 − B(N, A). With a queue, callers who would wait longer than their patience hang up; taking
# the Erlang C wait (which ignores those departures and so overstates the wait) gives a conservative
# answer rate ≥ SL(patience) = P(wait ≤ patience).


def _check_answer_rate(target_answer_rate: float) -> float:
    try:
        rate = float(target_answer_rate)
    except (TypeError, ValueError):
        raise ErlangInputError("目标接听率必须是数字。") from None
    if rate >= 1:
        raise ErlangInputError(
            "目标接听率不能为 100%：只要有来电，有限的线路总有被占满的可能；请给出如 99% 的目标。"
        )
    if rate <= 0:
        raise ErlangInputError("目标接听率必须大于 0。")
    return rate


def lines_for_answer_rate(arrivals_per_hour: float, holding_seconds: float, target_answer_rate: float) -> int:
    """Lines of the hunt group so that at least the target share of calls is answered (blocking ≤ 1 − r)."""
    rate = _check_answer_rate(target_answer_rate)
    return lines_needed(arrivals_per_hour, holding_seconds, 1.0 - rate)


def agents_for_answer_rate(
    arrivals_per_hour: float, aht_seconds: float, target_answer_rate: float, patience_seconds: float
) -> int:
    """Agents of a queue so that at least the target share of callers is answered before they give up
    (callers hang up after `patience_seconds`; conservative, see above)."""
    rate = _check_answer_rate(target_answer_rate)
    return agents_needed(arrivals_per_hour, aht_seconds, rate, patience_seconds)


# --- the capacity planner: one row per hour of the day ----------------------------------------------------


@dataclass(frozen=True)
class HourPlan:
    hour: int
    arrivals: float  # calls offered in the hour
    line_load: float  # erlangs on the lines: arrivals × line holding time
    agent_load: float  # erlangs on the agents: arrivals × AHT (wrap-up included)
    blocking_now: float  # Erlang B with the current lines
    lines_needed: int  # fewest lines for the target answer rate (0 when no calls)
    agents_needed: int  # fewest agents for the service level target (0 when no calls)
    agents_service_level: float  # SL(t) with that many agents
    agents_asa_seconds: float

    @property
    def answer_rate_now(self) -> float:
        return 1.0 - self.blocking_now

    @property
    def blocking_now_percent(self) -> float:
        return self.blocking_now * 100

    @property
    def agents_service_level_percent(self) -> float:
        return self.agents_service_level * 100


def plan_hours(
    *,
    arrivals_per_hour: list[float],
    line_holding_seconds: float,
    aht_seconds: float,
    current_lines: int,
    target_answer_rate: float,
    target_service_level: float,
    answer_within_seconds: float,
) -> list[HourPlan]:
    """For every hour: the offered load, the blocking of the current hunt group (Erlang B), the lines a
    target answer rate needs, and the agents a service level target needs if callers could queue
    (Erlang C). Hours without calls need nothing."""
    holding = _check_seconds(line_holding_seconds, "每通占线时长")
    aht = _check_seconds(aht_seconds, "平均处理时长")
    current_lines = _check_servers(current_lines, "现有线路数")
    rate = _check_answer_rate(target_answer_rate)
    sl_target = _check_fraction(target_service_level, "目标服务水平")
    plans: list[HourPlan] = []
    for hour, arrivals in enumerate(arrivals_per_hour):
        line_load = offered_load(arrivals, holding)
        agent_load = offered_load(arrivals, aht)
        if arrivals == 0:
            plans.append(HourPlan(hour, 0.0, 0.0, 0.0, 0.0, 0, 0, 1.0, 0.0))
            continue
        agents = agents_for_load(agent_load, aht, sl_target, answer_within_seconds)
        plans.append(
            HourPlan(
                hour=hour,
                arrivals=float(arrivals),
                line_load=line_load,
                agent_load=agent_load,
                blocking_now=erlang_b(current_lines, line_load),
                lines_needed=lines_for_load(line_load, 1.0 - rate),
                agents_needed=agents,
                agents_service_level=service_level(agents, agent_load, aht, answer_within_seconds),
                agents_asa_seconds=average_speed_of_answer(agents, agent_load, aht),
            )
        )
    return plans
