"""A real, short capacity search (`python -m rollout_bench capacity`: steps of 2 s warm-up +
8 s hold, 6 tenants, 3 steps) against the test servers: capacity.json and capacity.png are
written, the steps are the ones the search asks for given the verdicts they got, every
check states its evidence, each step ended with a drain record, and no process of the run
is left behind. What the machine sustains is not asserted (a speed is a benchmark's job)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from rollout_bench.capacity.result import CapacityResult, StepResult
from rollout_bench.capacity.search import Search, SearchLimits

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _replayed(steps: list[StepResult], limits: SearchLimits) -> None:
    """Runs the search over the recorded steps: each rate it asks for must be the next one
    recorded (so the order is exactly the search's), and it must stop where the run did."""
    recorded = iter(steps)

    def replay(rate: float, repeat_of: float | None) -> StepResult:
        step = next(recorded)
        assert (step.rate_syncs_per_s, step.repeat_of) == (rate, repeat_of)
        return step

    Search(replay, limits, clock=lambda: 0.0).run()
    assert next(recorded, None) is None


def test_a_short_search_writes_its_result_and_plot(stack_urls, tmp_path: Path) -> None:
    env = {**os.environ, "REDIS_URL": stack_urls.redis_url, "NATS_URL": stack_urls.nats_url,
           "DATABASE_URL": stack_urls.database_url, "ROLLOUT_BENCH_RESULTS": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "rollout_bench", "capacity", "--stack", "external", "--week", "5",
                             "--path", "unified", "--hold", "8", "--max-hold", "8", "--warmup", "2", "--start", "2", "--max-steps", "3",
                             "--repeats", "0", "--tenants", "6", "--drain", "5", "--budget", "300"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    [run] = list((tmp_path / "runs").iterdir())
    data = json.loads((run / "capacity.json").read_text())
    capacity = CapacityResult.from_dict(data)
    assert (run / "capacity.png").stat().st_size > 10_000
    assert (result.returncode == 0) == (capacity.knee is not None)
    assert 1 <= len(capacity.steps) <= 3 and capacity.steps[0].rate_syncs_per_s == 2.0
    _replayed(capacity.steps, SearchLimits(start=2.0, max_steps=3, repeats=0, budget_s=1e9))
    for step in capacity.steps:
        assert [c.name for c in step.checks] == ["latency", "backlog_depth", "backlog_age", "errors", "generator",
                                                 "processes", "machine"]
        assert all(c.samples > 0 or c.passed is None for c in step.checks), step.checks
        assert step.generator["planned"] > 0 and step.drain["action"] and step.wall_s > 0
        assert step.cpu["samples"] > 0 and "worker-0" in step.cpu["by_process"]
    assert capacity.context["git_sha"] and capacity.context["machine"]["cpus"]
    assert capacity.production["syncs_per_s"] > 0
    if capacity.knee is not None:
        assert capacity.floor and capacity.floor["count"] > 0
    assert "knee:" in result.stdout and "syncs/s" in result.stdout
    tag = f"cap{capacity.run_id[-6:]}-"
    left = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(tag in part for part in process.environ().values()) or str(run) in " ".join(process.info["cmdline"] or []):
                left.append(process.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    assert left == []
