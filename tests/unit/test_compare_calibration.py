"""Calibration of the release comparison on the stored real runs (results/releases/).

The world the trials draw from is built from the stored runs of the newest release with
at least three runs: each run's samples (every metric) are scaled to the release's common
median, so what is left is the real shape, tail and job-to-job correlation; a synthetic run
is one such run picked at random, moving-block resampled (blocks of 10 jobs, in arrival
order), times a run effect exp(N(0, tau^2)) with tau the stored runs' own spread of log
median (per metric). A baseline is as many synthetic runs as `make baseline` stores by
default, the head as many as the regression gate needs (`min_samples` in ops/gates.toml:
what `make loadtest`'s default series gives). Seeded: the same rates on every run of the
suite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pytest

from rollout_bench.commands.compare import DEFAULT_BASELINE_RUNS
from rollout_bench.compare.rows import compare_runs
from rollout_bench.judge.gates import load_gates
from rollout_bench.paths import gates_file, results_dir
from rollout_bench.results.store import read_samples, releases, run_dirs

METRICS = ("job_latency_ms", "analysis_s", "queries_per_analysis")
SCALED = ("job_latency_ms", "analysis_s")
BASE_RUNS = DEFAULT_BASELINE_RUNS
HEAD_RUNS = next(g.min_samples for g in load_gates(gates_file()) if g.samples_path == "regression.head_runs")
Transform = Callable[[np.ndarray], np.ndarray]


@cache
def stored_world() -> tuple[list[dict[str, dict[str, np.ndarray]]], dict[str, float], str]:
    stored = [d for d in releases(results_dir()) if len(run_dirs(d)) >= BASE_RUNS]
    if not stored:
        pytest.fail(f"no stored release with {BASE_RUNS} runs under results/releases; make one with "
                    f"`make loadtest WEEK=5 STACK=embedded RUNS={BASE_RUNS}` and `make baseline RELEASE=x`")
    release = stored[-1]
    runs = [read_samples(d) for d in run_dirs(release)]
    tau: dict[str, float] = {}
    world: list[dict[str, dict[str, np.ndarray]]] = [
        {m: {p: np.asarray(v, dtype=float) for p, v in run.get(m, {}).items()} for m in METRICS} for run in runs]
    for metric in SCALED:
        medians = [float(np.log(np.median(r[metric]["unified"]))) for r in world]
        tau[metric] = float(np.std(medians, ddof=1))
        centre = float(np.mean(medians))
        for run, median in zip(world, medians):
            for path in run[metric]:
                run[metric][path] = run[metric][path] * np.exp(centre - median)
    return world, tau, release.name


def synthetic_run(parent: Mapping[str, Mapping[str, np.ndarray]], tau: Mapping[str, float],
                  rng: np.random.Generator, plant: Mapping[str, Transform] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric, paths in parent.items():
        effect = float(np.exp(rng.normal(0.0, tau[metric]))) if metric in tau else 1.0
        out[metric] = {}
        for path, values in paths.items():
            n = values.size
            if n == 0:
                out[metric][path] = []
                continue
            size = min(10, max(1, n // 5))
            starts = rng.integers(0, n - size + 1, size=-(-n // size))
            drawn = values[(starts[:, None] + np.arange(size)).ravel()[:n]] * effect
            if plant and metric in plant:
                drawn = plant[metric](drawn)
            out[metric][path] = drawn.tolist()
    return out


def flag_rate(trials: int, seed: int, plant: Mapping[str, Transform] | None = None) -> float:
    world, tau, _ = stored_world()
    rng = np.random.default_rng(seed)
    flagged = 0
    for _ in range(trials):
        def draw(transform: Mapping[str, Transform] | None = None) -> dict[str, Any]:
            return synthetic_run(world[int(rng.integers(len(world)))], tau, rng, transform)

        base: Sequence[dict[str, Any]] = [draw() for _ in range(BASE_RUNS)]
        head = [draw(plant) for _ in range(HEAD_RUNS)]
        flagged += any(r.verdict == "regression" for r in compare_runs(base, head))
    return flagged / trials


def tail_only(factor: float) -> Transform:
    """The slowest 5 % of jobs `factor` times slower; the median unchanged."""
    def transform(values: np.ndarray) -> np.ndarray:
        cut = np.quantile(values, 0.95)
        return np.where(values > cut, values * factor, values)

    return transform


def test_independent_runs_of_one_release_flag_at_most_one_percent() -> None:
    assert flag_rate(400, seed=11) <= 0.01


def test_a_five_percent_change_is_not_flagged() -> None:
    assert flag_rate(400, seed=12, plant={"job_latency_ms": lambda v: v * 1.05}) <= 0.01


def test_a_planted_twenty_percent_job_latency_regression_is_flagged() -> None:
    _, tau, release = stored_world()
    rate = flag_rate(100, seed=13, plant={"job_latency_ms": lambda v: v * 1.2})
    assert rate >= 0.90, (f"x1.2 flagged in {rate:.0%} of trials vs release {release}; its runs' spread of "
                          f"log median job latency is {tau['job_latency_ms']:.3f}")


def test_a_planted_tail_only_regression_is_flagged() -> None:
    _, _, release = stored_world()
    rate = flag_rate(100, seed=14, plant={"job_latency_ms": tail_only(2.0)})
    assert rate >= 0.90, f"tail x2 flagged in {rate:.0%} of trials vs release {release}"
