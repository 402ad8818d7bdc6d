"""The backlog growth test (capacity/slope.py), measured by simulation as the search uses it:
a 30 s hold after a 10 s warm-up, sampled once a second, tolerance one latency target.

Queues: M/M/1 and a bursty one shaped like the pipeline's (a sync brings 5 jobs at once,
10 workers: M^5/M/10), both serving 50 jobs/s, the range the new path's knee falls in on a
2-core machine; and the legacy poller (every due job claimed each 2 s, plus its own 50 ms,
sampled out of phase). Seeds are fixed, so each figure is the same on every run."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from rollout_bench.capacity.slope import DEFAULT_ALPHA, growth_test

WARMUP_S, HOLD_S, TARGET_S = 10.0, 30.0, 1.0
CAPACITY_JOBS_PER_S = 50.0
RUNS = 200


def _fifo_starts(arrivals: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    free = [0.0] * servers
    starts = np.empty(arrivals.size)
    for i, arrival in enumerate(arrivals):
        start = max(arrival, heapq.heappop(free))
        starts[i] = start
        heapq.heappush(free, start + service[i])
    return starts


def _backlog(arrivals: np.ndarray, starts: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth (arrived, not started) and the age of the oldest waiting job at each grid time."""
    depth, age = np.zeros(grid.size), np.zeros(grid.size)
    for k, moment in enumerate(grid):
        waiting = arrivals[(arrivals <= moment) & (starts > moment)]
        depth[k] = waiting.size
        age[k] = moment - waiting.min() if waiting.size else 0.0
    return depth, age


def _queue(rng: np.random.Generator, utilisation: float, batch: int, servers: int) -> tuple[np.ndarray, ...]:
    span = WARMUP_S + HOLD_S
    rate_jobs = utilisation * CAPACITY_JOBS_PER_S
    syncs = np.sort(rng.uniform(0, span, rng.poisson(rate_jobs / batch * span)))
    arrivals = np.repeat(syncs, batch)
    service = rng.exponential(servers / CAPACITY_JOBS_PER_S, arrivals.size)
    grid = np.arange(WARMUP_S, span + 1e-9, 1.0)
    depth, age = _backlog(arrivals, _fifo_starts(arrivals, service, servers), grid)
    return grid, depth, age, np.array(rate_jobs)


def _verdicts(rng: np.random.Generator, utilisation: float, batch: int, servers: int) -> tuple[bool, bool, bool]:
    """(depth growing, age growing, significant without the tolerance) for one simulated step."""
    grid, depth, age, rate_jobs = _queue(rng, utilisation, batch, servers)
    by_depth = growth_test(grid, depth, HOLD_S, float(rate_jobs) * TARGET_S)
    by_age = growth_test(grid, age, HOLD_S, TARGET_S)
    significant = any(t.p_value is not None and t.p_value < DEFAULT_ALPHA for t in (by_depth, by_age))
    return bool(by_depth.growing), bool(by_age.growing), significant


QUEUES = {"M/M/1": (1, 1), "M^5/M/10 (bursty)": (5, 10)}


@pytest.mark.parametrize("name", QUEUES)
def test_false_alarms_on_stationary_queues_stay_under_alpha(name: str) -> None:
    batch, servers = QUEUES[name]
    rng = np.random.default_rng(20240611)
    significant_total = 0
    for utilisation in (0.5, 0.65, 0.8):
        depth_alarms = age_alarms = 0
        for _ in range(RUNS):
            by_depth, by_age, significant = _verdicts(rng, utilisation, batch, servers)
            depth_alarms += by_depth
            age_alarms += by_age
            significant_total += significant
        assert depth_alarms / RUNS <= DEFAULT_ALPHA, (name, utilisation, depth_alarms)
        assert age_alarms / RUNS <= DEFAULT_ALPHA, (name, utilisation, age_alarms)
    # The statistical half alone (no tolerance), depth or age, pooled over the utilisations:
    # the Bonferroni pair holds its level on these autocorrelated series (measured: 2 %).
    assert significant_total / (3 * RUNS) <= DEFAULT_ALPHA, (name, significant_total)


@pytest.mark.parametrize("name", QUEUES)
def test_an_overload_of_1_2x_is_detected_within_30_s(name: str) -> None:
    batch, servers = QUEUES[name]
    rng = np.random.default_rng(7)
    detected = sum(any(_verdicts(rng, 1.2, batch, servers)[:2]) for _ in range(RUNS))
    assert detected / RUNS >= 0.9, (name, detected)


def test_the_legacy_poller_sawtooth_is_not_growth() -> None:
    """Every due job claimed each 2.05 s: the depth and age sawtooth, sampled each second,
    drifts in phase (an aliased slope) but never by a latency target of the legacy path."""
    rng = np.random.default_rng(3)
    legacy_target_s = 3.0  # the poll (2 s) + 1 s
    alarms = 0
    for _ in range(RUNS):
        rate_jobs = rng.uniform(5, 40)
        span = WARMUP_S + HOLD_S
        arrivals = np.sort(rng.uniform(0, span, rng.poisson(rate_jobs * span)))
        polls = np.arange(rng.uniform(0, 2.05), span + 3, 2.05)
        starts = polls[np.searchsorted(polls, arrivals)]
        grid = np.arange(WARMUP_S, span + 1e-9, 1.0) + rng.uniform(0, 1)
        depth, age = _backlog(arrivals, starts, grid)
        alarms += bool(growth_test(grid, depth, HOLD_S, rate_jobs * legacy_target_s).growing
                       or growth_test(grid, age, HOLD_S, legacy_target_s).growing)
    assert alarms / RUNS <= DEFAULT_ALPHA, alarms


def test_too_few_samples_is_no_evidence_not_a_pass() -> None:
    result = growth_test([0, 1, 2], [0, 5, 10], HOLD_S, 1.0)
    assert result.growing is None and result.samples == 3


def test_a_steady_climb_is_growth_and_a_flat_line_is_not() -> None:
    times = [float(t) for t in range(31)]
    climbing = growth_test(times, [2.0 * t for t in times], HOLD_S, 10.0)
    assert climbing.growing is True and climbing.slope_per_s == pytest.approx(2.0)
    flat = growth_test(times, [3.0] * 31, HOLD_S, 10.0)
    assert flat.growing is False and flat.p_value == 1.0


def test_significant_but_below_the_tolerance_is_keeping_up() -> None:
    times = [float(t) for t in range(31)]
    tiny = growth_test(times, [0.01 * t for t in times], HOLD_S, 1.0)
    assert tiny.p_value is not None and tiny.p_value < DEFAULT_ALPHA
    assert tiny.growing is False  # 0.3 gained over the hold < 1


def test_mismatched_series_are_a_bug() -> None:
    with pytest.raises(ValueError, match="2 times but 3 values"):
        growth_test([0, 1], [0, 1, 2], HOLD_S, 1.0)
