"""The load generator's own ceiling (issue 12): one Locust process holds 200 syncs/s (1 000
jobs/s) of Poisson arrivals on the new path, against the stack's Redis with no worker: arrival
lateness p99 (its 95 % upper bound) under 50 ms, nothing dropped or failed, every recorded job
in Redis. Its figures are saved with the benchmark (extra_info)."""

from __future__ import annotations

from typing import Any

import pytest

from rollout_bench.load.generator import GeneratorResult, measure_generator

RATE_SYNCS_PER_S = 200.0  # 1 000 jobs/s
DURATION_S = 20.0


def test_one_locust_process_holds_1000_jobs_per_s(benchmark: Any, bench_stack: Any) -> None:
    results: list[GeneratorResult] = []
    benchmark.pedantic(lambda: results.append(measure_generator(bench_stack, RATE_SYNCS_PER_S, DURATION_S)),
                       rounds=1, iterations=1)
    (result,) = results
    benchmark.extra_info.update(fired_jobs_per_s=result.fired_rate["jobs_per_s"], planned=result.planned,
                                dropped=result.dropped, lateness_ms=result.lateness_ms,
                                enqueue_ms=result.enqueue_ms,
                                locust_cpu_percent=result.cpu.get("processes", {}).get("locust"))
    assert result.held is True, "\n".join(result.lines())


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
