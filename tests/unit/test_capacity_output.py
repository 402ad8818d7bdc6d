"""What a capacity search writes and prints: capacity.json (round trip), the table, the
summary (knee, headroom, bottleneck, floor), capacity.png, the new-path / legacy ratio, and
the backlog series and bottleneck words the steps are built from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rollout_bench.capacity.backlog import JobTiming, age_series, depth_series, hold_grid
from rollout_bench.capacity.criteria import Criteria, latency_check, verdict
from rollout_bench.capacity.output import step_line, summary, table
from rollout_bench.capacity.plot import capacity_plot
from rollout_bench.capacity.ratio import path_ratio
from rollout_bench.capacity.resources import bottleneck
from rollout_bench.capacity.result import CapacityResult, Check, Knee, StepResult
from rollout_bench.capacity.slope import growth_test
from rollout_bench.load.production import load_production

CPU = {"samples": 30, "cores": 2, "machine_percent": 97.0, "sampler_error": "", "other_work_percent": 8.0,
       "by_process": {"worker-0": 98.0, "postgres": 40.0, "generator": 12.0}, "postgres_backends": 12.0,
       "postgres_wait_events": {"LWLock:WALWrite": 7}}


def _step(rate: float, latency_ms: float, growing: bool, repeat_of: float | None = None) -> StepResult:
    latency, figures = latency_check({"unified": [latency_ms * 0.5] * 390 + [latency_ms] * 10}, Criteria())
    times = [float(t) for t in range(31)]
    depth = growth_test(times, [(3.0 * t if growing else 2.0) for t in times], 30.0, rate * 5)
    checks = [latency, Check("backlog_depth", not depth.growing, "x", 31)]
    return StepResult(rate, rate * 5, 30.0, rate * 5, figures,
                      {"by_path": {"unified": {"depth": depth.to_dict(), "age_s": depth.to_dict()}}},
                      {"lateness_ms": {"p99": 3.0}}, CPU, checks, repeat_of, verdict(checks), seed=2,
                      drain={"drained": True}, wall_s=48.0)


def _result(run_id: str = "20260101T000000Z-aaaaaa", path: str = "unified", knee: float | None = 4.0,
            git_sha: str = "abc123") -> CapacityResult:
    steps = [_step(2.0, 60.0, False), _step(4.0, 200.0, False), _step(8.0, 3000.0, True), _step(4.0, 220.0, False, 4.0)]
    production = load_production().to_dict()
    return CapacityResult(
        run_id=run_id, path=path, week=5, workers=1, arrivals="poisson",
        context={"git_sha": git_sha, "dirty": False, "machine": {"hostname": "h", "cpu_model": "c", "cpus": 2}},
        criteria=Criteria().to_dict(), steps=steps,
        knee=None if knee is None else Knee(knee, knee * 5, (knee, 8.0), 1, 1, precise=False),
        bottleneck={"first_unsustainable": {"rate_syncs_per_s": 8.0, **bottleneck(CPU)}},
        production=production, floor={"rate_syncs_per_s": 4.0, "count": 600, "p50": 2.5, "p99": 9.0,
                                      "p99_upper": 11.0, "verdict": "sustainable"},
        stopped="knee bracketed to 100% only")


def test_capacity_json_round_trips_with_headroom() -> None:
    result = _result()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["headroom"] == result.headroom == 4.0 / result.production["syncs_per_s"]
    assert [s["sustainable"] for s in data["steps"]] == [True, True, False, True]
    back = CapacityResult.from_dict(data)
    assert back.knee == result.knee and back.steps[2].verdict == "unsustainable" and back.steps[3].repeat_of == 4.0
    assert back.steps[0].drain == {"drained": True} and back.stopped == result.stopped


def test_the_table_and_summary_say_knee_headroom_bottleneck_and_floor() -> None:
    result = _result()
    lines = table(result.steps).splitlines()
    assert len(lines) == 5 and lines[0].split()[:3] == ["#", "syncs/s", "jobs/s"]
    assert lines[4].startswith("4r") and lines[3].rstrip().endswith("unsustainable")
    text = summary(result)
    assert "knee: 4 syncs/s = 20 jobs/s (bracket 4 - 8 syncs/s, wider than the precision)" in text
    assert f"headroom: {result.headroom:.3g}x production" in text
    assert "bottleneck at first unsustainable (8 syncs/s): worker-0 at 98 % of a core" in text
    assert "floor (no-op BullMQ workers, same generator) at 4 syncs/s: p50 2.5 ms, p99 9.0 ms" in text
    assert "the pipeline at the knee: p50 100 ms, p99 200 ms" in text
    assert "UNSUSTAINABLE: latency:" in step_line(3, result.steps[2])
    # CPU: machine 97 % of 2 cores, other work 8 % of a core: no note
    assert "busy with other work" not in text
    for step in result.steps:
        step.cpu = {**CPU, "other_work_percent": 154.0}
    assert "note: the machine was busy with other work during the holds (154 % of a core on average, more than " \
           "10 %)" in summary(result)


def test_no_knee_is_said_so() -> None:
    assert "knee: none found" in summary(_result(knee=None))


def test_the_plot_is_written(tmp_path: Path) -> None:
    png = capacity_plot(tmp_path / "capacity.png", _result())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def _store(runs: Path, result: CapacityResult) -> None:
    folder = runs / result.run_id
    folder.mkdir(parents=True)
    (folder / "capacity.json").write_text(json.dumps(result.to_dict()))


def test_the_ratio_of_the_knees_needs_the_other_path_from_the_same_machine_and_sha(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _store(runs, _result("20260101T000000Z-111111", "legacy", knee=0.5))
    _store(runs, _result("20260101T000001Z-222222", "legacy", knee=0.7, git_sha="other"))
    ratio: dict[str, Any] | None = path_ratio(_result("20260101T000002Z-333333", "unified", knee=4.0), runs)
    assert ratio is not None and ratio["ratio"] == 8.0 and ratio["legacy_run"] == "20260101T000000Z-111111"
    assert "new path / legacy knee: 8x" in ratio["words"]
    assert path_ratio(_result("20260101T000003Z-444444", "unified", git_sha="new"), runs) is None
    assert path_ratio(_result("20260101T000004Z-555555", "mix"), runs) is None


def test_the_age_of_the_oldest_waiting_job_from_arrivals_and_starts() -> None:
    jobs = [JobTiming("unified", 10.0, 10.2), JobTiming("unified", 10.5, 13.0), JobTiming("unified", 11.0, None)]
    assert hold_grid((10.0, 13.0)) == [10.0, 11.0, 12.0, 13.0]
    assert age_series(jobs, [10.0, 10.3, 11.0, 12.5, 13.5]) == [0.0, 0.0, 0.5, 2.0, 2.5]


def test_depth_samples_outside_the_hold_or_failed_are_left_out() -> None:
    series = {"elapsed_s": [0.0, 1.0, 2.0, 3.0], "unified": [5, -1, 7, 9], "legacy": [0, 0, 0, 0]}
    times, depths, failed = depth_series(series, 100.0, (100.5, 102.5), "unified")
    assert times == [102.0] and depths == [7.0] and failed == 1


def test_bottleneck_words() -> None:
    assert bottleneck(CPU)["words"].startswith("worker-0 at 98 % of a core")
    busy = {**CPU, "by_process": {"worker-0": 60.0, "postgres": 50.0}, "postgres_wait_events": {},
            "other_work_percent": 84.0}
    found = bottleneck(busy)
    assert found["words"] == ("the machine's 2 cores at 97 % (busiest: worker-0 at 60 % of a core; this run 110 % "
                              "of a core, other work 84 %)")
    assert bottleneck({**busy, "other_work_percent": None})["other_work_percent"] == 84.0  # 194 - 110
    calm = {**busy, "machine_percent": 40.0}
    assert bottleneck(calm)["words"].startswith("no resource saturated")
    assert bottleneck({**CPU, "by_process": {}})["resource"] is None
