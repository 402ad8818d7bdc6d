"""The one object that owns the pipeline's child processes during a run (pyperf style):
starts each role as `python -m msp_pipeline run --role R`, waits until its /metrics
answers, and stops every child on exit — also on Ctrl-C, on failure, and at interpreter
exit — first with SIGTERM (the pipeline drains), then SIGKILL after a grace period. Each
child gets SIGTERM from Linux if the harness dies (PR_SET_PDEATHSIG) and its pid is in the
run's record (stack/orphans.py), so `stack down` ends it if it outlived a SIGKILL."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack.orphans import die_with_parent, record_child
from rollout_bench.stack.processes import free_port

STOP_GRACE_S = 30.0
READY_TIMEOUT_S = 30.0


@dataclass
class PipelineProcess:
    role: str
    index: int
    metrics_port: int
    log_path: Path
    popen: subprocess.Popen[bytes]

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def alive(self) -> bool:
        return self.popen.poll() is None


class Supervisor:
    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.processes: list[PipelineProcess] = []
        self.killed: set[str] = set()
        atexit.register(self.stop_all)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, role: str, *, extra_env: Mapping[str, str] | None = None, wait: bool = True) -> PipelineProcess:
        index = sum(1 for p in self.processes if p.role == role)
        port = free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"pipeline-{role}-{index}.log"
        log_file = log_path.open("ab")
        popen = subprocess.Popen(
            [sys.executable, "-m", "msp_pipeline", "run", "--role", role, "--metrics-port", str(port)],
            env={**self.env, "PGAPPNAME": f"pipeline-{role}-{index}", **(extra_env or {})}, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM),
        )
        log_file.close()
        record_child(popen.pid, f"pipeline {role}-{index}")
        process = PipelineProcess(role, index, port, log_path, popen)
        self.processes.append(process)
        if wait:
            self.wait_ready(process)
        return process

    def wait_ready(self, process: PipelineProcess, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.alive():
                tail = process.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise InfrastructureError(
                    f"pipeline {process.name} exited with code {process.popen.returncode}: {' | '.join(tail)}")
            try:
                with urllib.request.urlopen(process.metrics_url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise InfrastructureError(f"pipeline {process.name} did not serve /metrics within {timeout:g} s")

    def kill(self, process: PipelineProcess, sig: int = signal.SIGKILL) -> None:
        """Kills on purpose (a drill's fault): `dead()` does not report it."""
        self.killed.add(process.name)
        if process.alive():
            os.killpg(process.popen.pid, sig)
            process.popen.wait(timeout=STOP_GRACE_S)

    def stop(self, process: PipelineProcess, grace: float = STOP_GRACE_S) -> int | None:
        self.killed.add(process.name)
        if process.alive():
            try:
                os.killpg(process.popen.pid, signal.SIGTERM)
                process.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
            except ProcessLookupError:
                pass
        return process.popen.returncode

    def stop_all(self, grace: float = STOP_GRACE_S) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        self.killed.update(p.name for p in self.processes)
        for process in self.processes:
            if process.alive():
                try:
                    os.killpg(process.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
            codes[process.name] = process.popen.returncode
        return codes

    def dead(self) -> dict[str, int | None]:
        """Processes that exited although nobody killed or stopped them: name -> exit code."""
        return {p.name: p.popen.returncode for p in self.processes if p.name not in self.killed and not p.alive()}

    def scrape(self) -> dict[str, str]:
        """The /metrics text of every live process."""
        texts: dict[str, str] = {}
        for process in self.processes:
            if process.alive():
                try:
                    with urllib.request.urlopen(process.metrics_url, timeout=2) as response:
                        texts[process.name] = response.read().decode()
                except OSError as exc:
                    texts[process.name] = f"# unreachable: {exc}"
        return texts

    def roles(self) -> Sequence[str]:
        return [p.name for p in self.processes]
