"""A step's backlog over its hold, per path, as two series about once a second, each judged
by the growth test (capacity/slope.py):

- depth: the queue's own count, read live by load/sampler.py's QueueDepthSampler (new path:
  BullMQ wait + prioritized + delayed; legacy: due, unclaimed scheduled_jobs rows); samples
  the sampler could not take (-1) are left out and counted;
- age of the oldest waiting job: at each second t of the hold, t minus the intended arrival
  of the oldest job that had arrived and not yet started. That is the oldest job in BullMQ's
  wait / prioritized (or the oldest due, unclaimed scheduled_jobs row), read from the
  pipeline's own record of when each job started (job_runs.started_at) instead of from the
  queue's internals; a job that never started waits to the end.

Tolerance (the practical threshold): one latency target's worth over the hold: target
seconds of age, and the path's arrivals during one target for depth."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollout_bench.capacity.slope import GrowthTest, growth_test

SAMPLE_INTERVAL_S = 1.0


@dataclass(frozen=True)
class JobTiming:
    path: str
    intended_s: float  # epoch seconds: when the generator meant the job to arrive
    started_s: float | None  # its first start, None if it never started


def hold_grid(window: tuple[float, float], interval_s: float = SAMPLE_INTERVAL_S) -> list[float]:
    start, end = window
    count = int((end - start) / interval_s) + 1
    return [start + i * interval_s for i in range(count)]


def age_series(jobs: Sequence[JobTiming], grid: Sequence[float]) -> list[float]:
    """The age (s) of the oldest job waiting at each grid time; 0 when none waits."""
    ordered = sorted(jobs, key=lambda j: j.intended_s)
    arrivals = [j.intended_s for j in ordered]
    ages = []
    for moment in grid:
        arrived = bisect.bisect_right(arrivals, moment)
        oldest = next((j.intended_s for j in ordered[:arrived] if j.started_s is None or j.started_s > moment), None)
        ages.append(0.0 if oldest is None else moment - oldest)
    return ages


def depth_series(series: Mapping[str, list[Any]], sampler_started_s: float, window: tuple[float, float],
                 path: str) -> tuple[list[float], list[float], int]:
    """(times, depths, samples that failed) of one path's live depth samples in the window."""
    times, depths, failed = [], [], 0
    for elapsed, depth in zip(series.get("elapsed_s", []), series.get(path, [])):
        at = sampler_started_s + float(elapsed)
        if not window[0] <= at <= window[1]:
            continue
        if depth < 0:
            failed += 1
            continue
        times.append(at)
        depths.append(float(depth))
    return times, depths, failed


def backlog_tests(jobs: Sequence[JobTiming], depth: Mapping[str, list[Any]], sampler_started_s: float,
                  window: tuple[float, float], target_s: Callable[[str], float], alpha: float, min_samples: int,
                  depth_path: Callable[[str], str] = lambda path: path
                  ) -> tuple[dict[str, GrowthTest], dict[str, GrowthTest], dict[str, Any]]:
    """(depth tests, age tests, the StepResult.backlog record) for every path with jobs.
    `depth_path` names the sampler's series of a path (the floor's jobs are in "unified")."""
    hold_s = window[1] - window[0]
    grid = hold_grid(window)
    depth_tests: dict[str, GrowthTest] = {}
    age_tests: dict[str, GrowthTest] = {}
    record: dict[str, Any] = {"interval_s": SAMPLE_INTERVAL_S, "by_path": {}}
    for path in sorted({j.path for j in jobs}):
        mine = [j for j in jobs if j.path == path]
        rate_jobs = sum(1 for j in mine if window[0] <= j.intended_s < window[1]) / hold_s
        times, depths, failed = depth_series(depth, sampler_started_s, window, depth_path(path))
        ages = age_series(mine, grid)
        depth_tests[path] = growth_test(times, depths, hold_s, rate_jobs * target_s(path), alpha, min_samples)
        age_tests[path] = growth_test(grid, ages, hold_s, target_s(path), alpha, min_samples)
        record["by_path"][path] = {
            "depth": depth_tests[path].to_dict(), "age_s": age_tests[path].to_dict(), "depth_samples_failed": failed,
            "series": {"depth_t": [round(t - window[0], 2) for t in times], "depth": depths,
                       "age_t": [round(t - window[0], 2) for t in grid], "age_s": [round(a, 3) for a in ages]}}
    worst_depth = max(depth_tests.values(), key=_growth, default=None)
    worst_age = max(age_tests.values(), key=_growth, default=None)
    record.update({"depth_slope_per_s": worst_depth.slope_per_s if worst_depth else None,
                   "depth_slope_p": worst_depth.p_value if worst_depth else None,
                   "age_slope": worst_age.slope_per_s if worst_age else None,
                   "age_slope_p": worst_age.p_value if worst_age else None})
    return depth_tests, age_tests, record


def _growth(test: GrowthTest) -> float:
    """For picking the path whose backlog grew most, relative to its tolerance."""
    if test.growth is None:
        return float("-inf")
    return test.growth / test.tolerance if test.tolerance > 0 else test.growth
