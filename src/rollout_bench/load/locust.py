"""Runs the Locust scenario as a child process (headless, or with its web UI on
127.0.0.1), and reads back what the load did: every enqueued job, the merged client-side
HDR histograms and Locust's request stats. The child is stopped on Ctrl-C or error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollout_bench.errors import InfrastructureError
from rollout_bench.paths import locustfile
from rollout_bench.stack.orphans import die_with_parent, record_child

UI_PORT = 8089


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


def locust_command(config_path: Path, out_dir: Path, processes: int, ui: bool) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(locustfile()), "--skip-log-setup",
               "--json-file", str(out_dir / "locust_stats"), "--web-host", "127.0.0.1"]
    if ui:
        command += ["--web-port", str(UI_PORT), "--autostart", "--autoquit", "30"]
    else:
        command += ["--headless", "--only-summary"]
    if processes > 1:
        command += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
    return command


def run_load(config_path: Path, out_dir: Path, *, processes: int = 1, ui: bool = False,
             timeout_s: float = 7200.0) -> LoadResult:
    env = {**os.environ, "LOADTEST_CONFIG": str(config_path)}
    log_path = out_dir / "locust.log"
    with log_path.open("wb") as log:
        child = subprocess.Popen(locust_command(config_path, out_dir, processes, ui), env=env, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 preexec_fn=die_with_parent(signal.SIGTERM))
        record_child(child.pid, "locust")
        try:
            code = child.wait(timeout=timeout_s)
        except BaseException:
            os.killpg(child.pid, signal.SIGINT)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            raise
    load_file = out_dir / "load.json"
    if not load_file.is_file():
        tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
        raise InfrastructureError(f"the Locust run wrote no load.json (exit {code}): {tail}")
    data = json.loads(load_file.read_text())
    stats_file = out_dir / "locust_stats.json"
    requests = json.loads(stats_file.read_text()) if stats_file.is_file() else []
    return LoadResult(data["jobs"], data["histograms"], data["counts"], requests, code, data.get("mutations", []))
