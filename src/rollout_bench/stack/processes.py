"""A server process this suite starts: spawn, stop, and find again from a saved record.

Servers run in their own session (Ctrl-C in the terminal reaches only the harness, which
then stops them in order). Unless detached (`stack up`), each also gets a parent-death
signal, so a harness killed with SIGKILL takes its servers with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack.health import one_line
from rollout_bench.stack.identity import is_same_process, started_after_boot_s
from rollout_bench.stack.orphans import record_child

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent(sig: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def log_tail(path: Path, lines: int = 1) -> str:
    """The last non-empty line(s) of a log, on one line ('' when there is none)."""
    if not path.exists():
        return ""
    text = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return one_line(" | ".join(text[-lines:]))


@dataclass
class ServerProcess:
    """One server: how it was started and which process it is (pid + its start after boot, so a
    reused pid is never taken for it)."""

    name: str
    argv: list[str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    kill_signal: int = signal.SIGKILL
    uid: int | None = None
    gid: int | None = None
    detached: bool = False
    pid: int | None = None
    started_after_boot_s: float | None = None  # which process the pid is (stack/identity.py)
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    _returncode: int | None = field(default=None, repr=False, compare=False)

    def spawn(self) -> None:
        death_signal = self.kill_signal
        on_main_thread = threading.current_thread() is threading.main_thread()
        # The parent-death signal fires when the spawning *thread* ends, so only from the main thread.
        preexec = None if self.detached or not on_main_thread else (lambda: _die_with_parent(death_signal))
        with open(self.log_path, "ab") as log:
            try:
                self._popen = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, user=self.uid, group=self.gid, preexec_fn=preexec)
            except OSError as exc:
                raise InfrastructureError(
                    f"embedded {self.name} cannot start {self.argv[0]}: {one_line(exc)}") from None
        self.pid = self._popen.pid
        self.started_after_boot_s = started_after_boot_s(self.pid)
        if not self.detached:  # a detached server is stack up's, recorded in its state file
            record_child(self.pid, f"embedded {self.name}")

    def process(self) -> psutil.Process | None:
        """The running process, or None when it has exited (or the pid now belongs to another)."""
        if self.pid is None:
            return None
        try:
            if self._popen is not None and self._popen.poll() is not None:
                self._reap()  # our own child, exited: its pid is free again
                return None
            if self._popen is None and not is_same_process(self.pid, self.started_after_boot_s):
                return None  # a recorded pid that another process reuses (our own child keeps its pid)
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                self._reap()
                return None
        except psutil.NoSuchProcess:
            return None
        return proc

    def exit_code(self) -> int | None:
        """The exit code when this process started it and it has exited, else None."""
        return self._returncode if self._popen is None else self._popen.poll()

    def why_not_running(self) -> str:
        tail = log_tail(self.log_path)
        code = self.exit_code()
        status = f"exited with code {code}" if code is not None else "is not running"
        return f"{status}; log {self.log_path}: {tail or '(empty)'}"

    def stop(self, *, kill: bool = False, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop it (gracefully, or with its kill signal) and wait; SIGKILL after the timeout."""
        proc = self.process()
        if proc is not None:
            try:
                proc.send_signal(self.kill_signal if kill else self.stop_signal)
                if not _wait_gone(proc, timeout):
                    proc.kill()
                    _wait_gone(proc, timeout)
            except psutil.NoSuchProcess:
                pass  # it exited between the check and the signal: that is what we wanted
            leftovers = same_session_leftovers(proc.pid)
            for leftover in leftovers:
                with contextlib.suppress(psutil.NoSuchProcess):  # already gone is the goal
                    leftover.kill()
            psutil.wait_procs(leftovers, timeout=timeout)
        self._reap()
        self.pid = None
        self.started_after_boot_s = None

    def _reap(self) -> None:
        if self._popen is not None:
            try:
                self._returncode = self._popen.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:  # still running although it was asked to stop
                self._popen.kill()
                self._returncode = self._popen.wait(timeout=STOP_TIMEOUT_S)
            self._popen = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "argv": self.argv, "log_path": str(self.log_path),
                "stop_signal": int(self.stop_signal), "kill_signal": int(self.kill_signal),
                "uid": self.uid, "gid": self.gid, "detached": self.detached,
                "pid": self.pid, "started_after_boot_s": self.started_after_boot_s}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerProcess:
        return cls(name=data["name"], argv=list(data["argv"]), log_path=Path(data["log_path"]),
                   stop_signal=int(data["stop_signal"]), kill_signal=int(data["kill_signal"]),
                   uid=data["uid"], gid=data["gid"], detached=bool(data["detached"]),
                   pid=data["pid"], started_after_boot_s=data.get("started_after_boot_s"))


def _wait_gone(proc: psutil.Process, timeout: float) -> bool:
    """Wait until proc has exited; a zombie counts as gone (its parent, maybe another
    process that restarted it for a drill, reaps it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def same_session_leftovers(pid: int) -> list[psutil.Process]:
    """Processes still in the session led by pid (e.g. Postgres backends after a kill)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.pid != pid and os.getsid(proc.pid) == pid:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            continue  # gone meanwhile, or not ours to look at
    return found
