"""How `rollout-bench generator` judges a run: the lateness p99 by its order-statistic upper
bound read from the HDR histogram (checked against collect.bounds on the raw values), no
verdict without the samples to bound a p99, and any dropped, failed or missing job a failure."""

from __future__ import annotations

import random

import pytest

from rollout_bench.collect.bounds import quantile_bound
from rollout_bench.collect.histograms import encode, from_values
from rollout_bench.errors import UserError
from rollout_bench.load.generator import check_request, histogram_upper_bound, judge, schedule_held
from rollout_bench.load.locust import LoadResult

LIMIT_MS = 50.0


@pytest.mark.parametrize("n", [299, 1_000, 20_000])
def test_the_histogram_bound_is_the_order_statistic_bound_within_hdr_precision(n: int) -> None:
    rng = random.Random(n)
    values_ms = [rng.lognormvariate(0.5, 1.2) for _ in range(n)]
    exact = quantile_bound(values_ms, 0.99).upper
    read = histogram_upper_bound(from_values(values_ms, "ms"), 0.99)
    assert exact is not None and read is not None
    assert read / 1000 == pytest.approx(exact, rel=2e-3)  # 3 significant digits, top of the bucket
    assert read / 1000 >= exact * (1 - 1e-9)


def test_too_few_samples_bound_no_p99() -> None:
    assert histogram_upper_bound(from_values([1.0] * 298, "ms"), 0.99) is None
    held, reasons, upper = judge(298, 298, 0, 1490, 1490, from_values([1.0] * 298, "ms"), LIMIT_MS)
    assert held is None and upper is None and "too few to bound a p99" in reasons[0]


def test_a_schedule_held_and_one_not() -> None:
    on_time = from_values([2.0] * 990 + [30.0] * 10, "ms")
    assert judge(1000, 1000, 0, 5000, 5000, on_time, LIMIT_MS)[:2] == (True, [])
    late = from_values([2.0] * 980 + [80.0] * 20, "ms")
    held, reasons, upper = judge(1000, 1000, 0, 5000, 5000, late, LIMIT_MS)
    assert held is False and upper is not None and upper >= LIMIT_MS
    assert reasons == [f"lateness p99 upper bound {upper} ms (n=1000) >= 50 ms"]


@pytest.mark.parametrize("planned, fired, failed, recorded, in_redis, reason", [
    (1000, 997, 0, 4985, 4985, "3 of 1000 arrivals dropped"),
    (1000, 1000, 2, 4990, 4990, "2 enqueues failed"),
    (1000, 1000, 0, 5000, 4995, "5000 jobs recorded but 4995 found in Redis"),
])
def test_anything_dropped_failed_or_missing_is_not_held(planned: int, fired: int, failed: int, recorded: int,
                                                       in_redis: int, reason: str) -> None:
    few = from_values([1.0] * 10, "ms")  # even without the samples for a p99: a loss decides
    held, reasons, _ = judge(planned, fired, failed, recorded, in_redis, few, LIMIT_MS)
    assert held is False and reasons == [reason]


@pytest.mark.parametrize("rate, duration, processes, arrivals, message", [
    (0.0, 10.0, 1, "poisson", "rate 0.0 syncs/s is not allowed; use a number above 0"),
    (10.0, -1.0, 1, "poisson", "duration -1.0 s is not allowed; use a number above 0"),
    (10.0, 10.0, 0, "poisson", "processes 0 is not allowed; use 1 or more"),
    (10.0, 10.0, 1, "bursty", "arrivals 'bursty' is not allowed; use one of uniform, poisson"),
])
def test_bad_requests_are_refused_in_one_line(rate: float, duration: float, processes: int, arrivals: str,
                                              message: str) -> None:
    with pytest.raises(UserError, match=f"^{message}$"):
        check_request(rate, duration, processes, arrivals)


def test_a_pipeline_runs_schedule_is_judged_from_its_load_result() -> None:
    """For a capacity step: the jobs are consumed, so only lateness, drops and the sync
    enqueues the servers refused count (a failed mutation is not the generator's)."""
    lateness = encode(from_values([3.0] * 400, "ms"))
    requests = [{"name": "sync-trigger", "num_requests": 400, "num_failures": 0},
                {"name": "graph_source", "num_requests": 20, "num_failures": 2}]
    load = LoadResult([{"job_key": f"k{i}"} for i in range(2000)], {"lateness_ms": lateness, "enqueue_ms": lateness},
                      {"arrivals_planned": 400, "arrivals_fired": 400}, requests)
    assert schedule_held(load)[:2] == (True, [])
    requests[0]["num_failures"] = 1
    assert schedule_held(load)[:2] == (False, ["1 enqueues failed"])


def test_the_report_says_when_other_work_shared_the_machine() -> None:
    from rollout_bench.load.generator import GeneratorResult

    def result(foreign_mean: float | None) -> GeneratorResult:
        cpu = {"cores": 2, "machine": {"mean": 50.0}, "processes": {"locust": {"mean": 30.0, "samples": 20}},
               "foreign": {"mean": foreign_mean, "samples": 20}}
        return GeneratorResult(200.0, 20.0, 1, "poisson", 4000, 4000, 0, 0, 20000, 20000,
                               {"syncs_per_s": 200.0, "jobs_per_s": 1000.0}, {"syncs_per_s": 200.0, "jobs_per_s": 1000.0},
                               1000.0, {"count": 4000, "p50": 1.0, "p99": 9.0, "p99_upper": 10.0, "max": 20.0},
                               {"p50": 5.0, "p99": 30.0}, cpu, True, [])

    assert "40 % of a core on average (busy" in "\n".join(result(40.0).lines())
    assert "2 % of a core on average (quiet)" in "\n".join(result(2.0).lines())
    assert "verdict  HELD" in "\n".join(result(2.0).lines())
    # not recorded: the machine's mean less the run's own processes (cpu.foreign_mean)
    assert "70 % of a core" in result(None).other_work()
