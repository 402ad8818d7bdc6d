"""Runs the Locust scenario as a child process (headless, or with its web UI on
127.0.0.1), and reads back what the load did: every enqueued job, the merged client-side
HDR histograms and Locust's request stats. The child is stopped on Ctrl-C or error.

Distributed on Locust's own engine: `processes=N` starts a master and N local workers;
`master=True` starts only the master, which waits for `expect_workers` workers to connect
from other hosts to `master_bind_host:master_port`. Each worker host runs

    LOADTEST_CONFIG=/path/to/the/same/config.json LOADTEST_ALLOWED_HOSTS=<target hosts> \
        python -m locust -f loadtests/locustfile.py --worker --master-host H --master-port P

or `rollout-bench load-worker --config PATH --master-host H --master-port P` (worker_command).
The master splits the arrival schedule between the workers it sees at the start and merges
their records (jobs, histograms, counts) and Locust's own stats."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rollout_bench.errors import InfrastructureError, UserError
from rollout_bench.load.config import CONFIG_ENV
from rollout_bench.paths import locustfile
from rollout_bench.stack.orphans import die_with_parent, record_child

UI_PORT = 8089
MASTER_PORT = 5557  # Locust's default
EXPECT_WORKERS_MAX_WAIT_S = 120.0


@dataclass(frozen=True)
class MasterOptions:
    """The master of a run whose workers run elsewhere."""

    expect_workers: int
    bind_host: str = "127.0.0.1"
    port: int = MASTER_PORT
    max_wait_s: float = EXPECT_WORKERS_MAX_WAIT_S


@dataclass
class LoadResult:
    jobs: list[dict[str, Any]]
    histograms: dict[str, str]
    counts: dict[str, int]
    requests: list[dict[str, Any]] = field(default_factory=list)
    locust_exit_code: int = 0
    mutations: list[dict[str, Any]] = field(default_factory=list)  # graph_source changes, in order

    def arrivals(self) -> dict[str, int]:
        planned, fired = self.counts.get("arrivals_planned", 0), self.counts.get("arrivals_fired", 0)
        return {"planned": planned, "fired": fired, "dropped": max(0, planned - fired)}

    def offered_rate(self) -> dict[str, float | None]:
        """The schedule's mean arrival rate: syncs per second and jobs per second."""
        planned, span_s = self.counts.get("arrivals_planned", 0), self.counts.get("schedule_ms", 0) / 1000
        syncs = planned / span_s if span_s > 0 else None
        per_sync = len(self.jobs) / max(1, self.counts.get("arrivals_fired", 0))
        return {"syncs_per_s": None if syncs is None else round(syncs, 3),
                "jobs_per_s": None if syncs is None else round(syncs * per_sync, 3)}

    def request_totals(self) -> dict[str, int]:
        return {"requests": sum(int(r.get("num_requests", 0)) for r in self.requests),
                "failures": sum(int(r.get("num_failures", 0)) for r in self.requests)}


def locust_command(config_path: Path, out_dir: Path, processes: int, ui: bool,
                   master: MasterOptions | None = None) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(locustfile()), "--skip-log-setup",
               "--json-file", str(out_dir / "locust_stats"), "--web-host", "127.0.0.1"]
    if ui:
        command += ["--web-port", str(UI_PORT), "--autostart", "--autoquit", "30"]
    else:
        command += ["--headless", "--only-summary"]
    if master is not None:
        command += ["--master", "--expect-workers", str(master.expect_workers), "--master-bind-host",
                    master.bind_host, "--master-bind-port", str(master.port), "--expect-workers-max-wait",
                    f"{master.max_wait_s:g}"]
    elif processes > 1:
        command += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
    return command


def worker_command(master_host: str, master_port: int = MASTER_PORT, processes: int = 1) -> list[str]:
    """A worker of a master elsewhere (LOADTEST_CONFIG in its environment names the run's config)."""
    command = [sys.executable, "-m", "locust", "-f", str(locustfile()), "--skip-log-setup", "--worker",
               "--master-host", master_host, "--master-port", str(master_port)]
    if processes > 1:
        command += ["--processes", str(processes)]
    return command


def master_options(master: bool, expect_workers: int, bind_host: str, port: int, processes: int) -> MasterOptions | None:
    if not master:
        return None
    if processes > 1:
        raise UserError(f"processes {processes} with master=True is not allowed: a master's workers are started "
                        "apart (worker_command), so give expect_workers instead")
    if expect_workers < 1:
        raise UserError(f"expect_workers {expect_workers!r} is not allowed; use 1 or more")
    if not 0 < port < 65536:
        raise UserError(f"master port {port!r} is not allowed; use 1 to 65535")
    return MasterOptions(expect_workers, bind_host, port)


def run_locust(command: list[str], env: dict[str, str], log: IO[bytes] | None, timeout_s: float | None) -> int:
    """Locust as a child in its own session (ended with its parent), its exit code; on Ctrl-C,
    a timeout or an error it is stopped (SIGINT, then SIGKILL after 15 s)."""
    child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                             start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM))
    record_child(child.pid, "locust")
    try:
        return child.wait(timeout=timeout_s)
    except BaseException:
        os.killpg(child.pid, signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        raise


def run_load(config_path: Path, out_dir: Path, *, processes: int = 1, ui: bool = False,
             timeout_s: float = 7200.0, master: bool = False, expect_workers: int = 1,
             master_bind_host: str = "127.0.0.1", master_port: int = MASTER_PORT) -> LoadResult:
    """The run's load, from this host alone (`processes` local Locust processes) or as the
    master of `expect_workers` workers that connect to `master_bind_host:master_port`."""
    options = master_options(master, expect_workers, master_bind_host, master_port, processes)
    env = {**os.environ, CONFIG_ENV: str(config_path)}
    log_path = out_dir / "locust.log"
    with log_path.open("wb") as log:
        code = run_locust(locust_command(config_path, out_dir, processes, ui, options), env, log, timeout_s)
    load_file = out_dir / "load.json"
    if not load_file.is_file():
        tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
        raise InfrastructureError(f"the Locust run wrote no load.json (exit {code}): {tail}")
    data = json.loads(load_file.read_text())
    stats_file = out_dir / "locust_stats.json"
    requests = json.loads(stats_file.read_text()) if stats_file.is_file() else []
    return LoadResult(data["jobs"], data["histograms"], data["counts"], requests, code, data.get("mutations", []))
