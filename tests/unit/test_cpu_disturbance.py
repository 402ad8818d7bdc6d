"""Which runs other work on the machine disturbed: from the recorded foreign CPU, or, for runs
recorded before it was, from the machine's CPU less the run's own processes."""

from __future__ import annotations

import time

from rollout_bench.load.cpu import DISTURBED_CORE_PERCENT, disturbance, foreign_mean


def test_recorded_foreign_cpu_decides() -> None:
    quiet = {"run_id": "a", "cpu": {"foreign": {"mean": DISTURBED_CORE_PERCENT - 1}}}
    busy = {"run_id": "b", "cpu": {"foreign": {"mean": 85.0}}}
    assert disturbance(quiet) == ""
    assert "run b: the machine was busy with other work (85 % of a core" in disturbance(busy)


def test_older_runs_are_judged_from_the_machine_less_their_processes() -> None:
    cpu = {"cores": 2, "machine": {"mean": 72.4},
           "processes": {"pipeline-worker": {"mean": 8.6}, "postgres": {"mean": 16.5}, "locust": {"mean": 1.8}}}
    assert foreign_mean(cpu) == 72.4 * 2 - (8.6 + 16.5 + 1.8)
    assert disturbance({"run_id": "old", "cpu": cpu})
    assert disturbance({"run_id": "old", "cpu": {**cpu, "machine": {"mean": 14.0}}}) == ""


def test_a_run_without_cpu_figures_is_not_called_disturbed() -> None:
    assert disturbance({"run_id": "x"}) == "" and foreign_mean({}) is None


def test_a_child_started_while_sampling_counts_as_the_runs_own_from_its_first_second() -> None:
    import subprocess
    import sys

    from rollout_bench.load.cpu import CpuSampler

    burn = "import time\nend = time.process_time() + 0.8\nwhile time.process_time() < end: pass\n"
    with CpuSampler(interval_s=0.2) as sampler:
        child = subprocess.Popen([sys.executable, "-c", burn, "--role", "burner"])
        child.wait(timeout=60)
        deadline = time.monotonic() + 10
        while len(sampler.machine) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    attributed_s = sum(sampler.by_process.get("pipeline-burner", [])) * 0.2 / 100
    assert attributed_s >= 0.5, sampler.by_process  # psutil's first cpu_percent() would have said 0
