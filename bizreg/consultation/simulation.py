"""Discrete-event simulations that check the Erlang formulas (pure Python, seeded, no Django).

- simulate_hunt_group: the hotline's LINEAR hunt group. Calls arrive as a Poisson stream, each tries line 1,
  then 2, …, takes the first free line for its holding time, and is lost when every line is busy (no queue).
  Estimates the blocking probability (compare with Erlang B) and each line's occupancy (compare with
  A·(B(k−1) − B(k))).
- simulate_queue: N agents with one FIFO queue, nobody hangs up. Estimates P(wait) (compare with Erlang C),
  the service level within t seconds and the ASA.

Every estimate comes with its standard error and a 95 % confidence interval by the method of batch means:
the calls after a warm-up (the system starts empty) are cut into equal batches, each batch gives one value,
and the spread of the batch values gives the error. The same seed gives the same result on every machine
(random.Random, no global state).
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from dataclasses import dataclass

from bizreg.consultation.erlang import ErlangInputError

MAX_CALLS = 2_000_000
MIN_CALLS_PER_BATCH = 50
HOLDING_DISTRIBUTIONS = ("exponential", "constant")

# Two-sided 95 % quantiles of Student's t for 1…30 degrees of freedom; beyond that the normal 1.96 is close.
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(degrees_of_freedom: int) -> float:
    if degrees_of_freedom < 1:
        raise ValueError("degrees of freedom must be ≥ 1")
    return _T_975[degrees_of_freedom - 1] if degrees_of_freedom <= len(_T_975) else 1.96


@dataclass(frozen=True)
class Estimate:
    """A simulated figure: the mean of the batch means, its standard error and 95 % half-width."""

    mean: float
    standard_error: float
    half_width: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @classmethod
    def from_batches(cls, values: list[float]) -> Estimate:
        mean = statistics.fmean(values)
        error = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.inf
        return cls(mean=mean, standard_error=error, half_width=t_quantile_975(len(values) - 1) * error)


@dataclass(frozen=True)
class HuntGroupResult:
    lines: int
    load: float
    calls: int  # calls measured (after the warm-up)
    seed: int
    blocking: Estimate
    line_occupancy: list[Estimate]  # first line first


@dataclass(frozen=True)
class QueueResult:
    agents: int
    load: float
    calls: int
    seed: int
    wait_probability: Estimate
    asa_seconds: Estimate
    service_level: Estimate | None  # when answer_within_seconds was given


def _check_run(calls: int, batches: int, warmup_calls: int | None) -> tuple[int, int, int]:
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        raise ErlangInputError("仿真来电数必须是正整数。")
    if calls > MAX_CALLS:
        raise ErlangInputError(f"仿真来电数不能超过 {MAX_CALLS:,}。")
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 2:
        raise ErlangInputError("批次数至少为 2（用于估计抽样误差）。")
    if calls < batches * MIN_CALLS_PER_BATCH:
        raise ErlangInputError(f"仿真来电数至少为批次数 × {MIN_CALLS_PER_BATCH}。")
    warmup = calls // 10 if warmup_calls is None else warmup_calls
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ErlangInputError("预热来电数不能为负数。")
    return calls, batches, warmup


def _check_positive(value: float, what: str) -> float:
    number = float(value)
    if math.isnan(number) or math.isinf(number) or number <= 0:
        raise ErlangInputError(f"{what}必须大于 0。")
    return number


def _holding_sampler(rng: random.Random, distribution: str, mean: float):
    if distribution == "exponential":
        rate = 1.0 / mean
        return lambda: rng.expovariate(rate)
    if distribution == "constant":
        return lambda: mean
    raise ErlangInputError(
        f"未知的通话时长分布：{distribution}（可用：{'、'.join(HOLDING_DISTRIBUTIONS)}）。"
    )


def _batch_sizes(calls: int, batches: int) -> list[int]:
    size, extra = divmod(calls, batches)
    return [size + (1 if i < extra else 0) for i in range(batches)]


def simulate_hunt_group(
    *,
    lines: int,
    load: float,
    calls: int = 100_000,
    seed: int = 0,
    batches: int = 20,
    warmup_calls: int | None = None,
    holding: str = "exponential",
) -> HuntGroupResult:
    """Simulate `calls` calls (plus a warm-up, by default a tenth more) offered to a linear hunt group of
    `lines` lines at `load` erlangs. Time is measured in mean holding times (the result does not depend on
    the unit). `holding="constant"` checks Erlang B's insensitivity to the holding-time distribution."""
    if isinstance(lines, bool) or not isinstance(lines, int) or lines < 1:
        raise ErlangInputError("线路数必须是正整数。")
    load = _check_positive(load, "话务量")
    calls, batches, warmup = _check_run(calls, batches, warmup_calls)
    rng = random.Random(seed)
    next_hold = _holding_sampler(rng, holding, 1.0)
    arrival_rate = load  # arrivals per mean holding time

    free_at = [0.0] * lines
    now = 0.0
    for _ in range(warmup):
        now += rng.expovariate(arrival_rate)
        for position in range(lines):
            if free_at[position] <= now:
                free_at[position] = now + next_hold()
                break

    blocking_values: list[float] = []
    occupancy_values: list[list[float]] = [[] for _ in range(lines)]
    for size in _batch_sizes(calls, batches):
        batch_start = now
        blocked = 0
        # Holding time carried by each line for the calls of this batch, counted whole at arrival: over a
        # batch of thousands of calls the spill into the next batch is negligible and evens out.
        carried = [0.0] * lines
        for _ in range(size):
            now += rng.expovariate(arrival_rate)
            for position in range(lines):
                if free_at[position] <= now:
                    hold = next_hold()
                    free_at[position] = now + hold
                    carried[position] += hold
                    break
            else:
                blocked += 1
        elapsed = now - batch_start
        blocking_values.append(blocked / size)
        for position in range(lines):
            occupancy_values[position].append(carried[position] / elapsed)

    return HuntGroupResult(
        lines=lines,
        load=load,
        calls=calls,
        seed=seed,
        blocking=Estimate.from_batches(blocking_values),
        line_occupancy=[Estimate.from_batches(values) for values in occupancy_values],
    )


def simulate_queue(
    *,
    agents: int,
    load: float,
    aht_seconds: float = 1.0,
    answer_within_seconds: float | None = None,
    calls: int = 100_000,
    seed: int = 0,
    batches: int = 20,
    warmup_calls: int | None = None,
    holding: str = "exponential",
) -> QueueResult:
    """Simulate N agents serving one FIFO queue at `load` erlangs (A < N, else the queue never settles).

    With FIFO and identical agents each caller is served by the agent that frees up first, at
    max(arrival, that moment): a heap of the agents' free times is the whole state."""
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise ErlangInputError("坐席数必须是正整数。")
    load = _check_positive(load, "话务量")
    aht = _check_positive(aht_seconds, "平均处理时长")
    if load >= agents:
        raise ErlangInputError(
            f"话务量 A = {load:.2f} 不小于坐席数 N = {agents}：排队无限增长，没有稳定状态可供仿真。"
        )
    if answer_within_seconds is not None and answer_within_seconds < 0:
        raise ErlangInputError("服务水平时限不能为负数。")
    calls, batches, warmup = _check_run(calls, batches, warmup_calls)
    rng = random.Random(seed)
    next_hold = _holding_sampler(rng, holding, aht)
    arrival_rate = load / aht

    free_at = [0.0] * agents  # a heap
    now = 0.0
    for _ in range(warmup):
        now += rng.expovariate(arrival_rate)
        start = max(now, free_at[0])
        heapq.heapreplace(free_at, start + next_hold())

    wait_values: list[float] = []
    asa_values: list[float] = []
    sl_values: list[float] = []
    limit = answer_within_seconds
    for size in _batch_sizes(calls, batches):
        waited = 0
        total_wait = 0.0
        within = 0
        for _ in range(size):
            now += rng.expovariate(arrival_rate)
            earliest = free_at[0]
            if earliest > now:
                waited += 1
                wait = earliest - now
                total_wait += wait
                start = earliest
            else:
                wait = 0.0
                start = now
            if limit is not None and wait <= limit:
                within += 1
            heapq.heapreplace(free_at, start + next_hold())
        wait_values.append(waited / size)
        asa_values.append(total_wait / size)
        sl_values.append(within / size)

    return QueueResult(
        agents=agents,
        load=load,
        calls=calls,
        seed=seed,
        wait_probability=Estimate.from_batches(wait_values),
        asa_seconds=Estimate.from_batches(asa_values),
        service_level=Estimate.from_batches(sl_values) if limit is not None else None,
    )
