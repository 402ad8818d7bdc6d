"""The pytest-benchmark suites (`benchmarks/`: analysis time per path and tenant size, job
latency with one job per round) run inside a loadtest against the run's own stack, so
their results are stored with the run (`bench.json`, every round kept), go into a
baseline with it and are shown in the report beside the stored release's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rollout_bench.compare.bench import BENCH_FILE
from rollout_bench.errors import InfrastructureError
from rollout_bench.paths import project_root
from rollout_bench.stack import StackUrls

BENCH_TIMEOUT_S = 1200.0


def benchmark_command(out: Path, skip: Sequence[str] = ()) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(project_root() / "benchmarks"), "-q", "-p", "no:cacheprovider",
               f"--benchmark-json={out / BENCH_FILE}", "--benchmark-save-data"]
    if skip:
        command += ["-k", " and ".join(f"not {name}" for name in skip)]
    return command


def run_benchmarks(urls: StackUrls, out: Path, skip: Sequence[str] = ()) -> Path:
    """Runs the suites on the run's servers (STACK=external) and returns bench.json's path; a
    failing suite is an infrastructure error naming its last lines, never a silent gap."""
    env = {**os.environ, "STACK": "external", "DATABASE_URL": urls.database_url, "REDIS_URL": urls.redis_url,
           "NATS_URL": urls.nats_url}
    log = out / "bench.log"
    with log.open("w") as handle:
        done = subprocess.run(benchmark_command(out, skip), cwd=project_root(), env=env, stdout=handle,
                              stderr=subprocess.STDOUT, timeout=BENCH_TIMEOUT_S)
    if done.returncode != 0 or not (out / BENCH_FILE).is_file():
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise InfrastructureError(f"the benchmark suites failed (exit {done.returncode}): {tail}")
    return out / BENCH_FILE


__all__ = ["benchmark_command", "run_benchmarks"]
