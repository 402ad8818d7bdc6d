"""What a run leaves behind if it is killed, and how the next command ends it.

Each harness process that starts children (pipeline processes, Locust, embedded servers)
or makes temporary files keeps a record in `.stack/runs/<pid>-<start>.json`: its own pid
and start time, every child's pid and start time, the temporary folders and files, and the
Redis key prefixes it wrote on servers it does not own. The record is removed when the
process exits normally (atexit; SIGTERM and SIGINT end a run through the same path). After
a SIGKILL it stays, and `stack down` or the next run calls `end_orphans`: every recorded
child still running (same pid *and* start time, so a reused pid is never touched) gets
SIGTERM, then SIGKILL, with what is left in its session; the folders and files are removed;
the Redis keys are deleted.

Children also get a parent-death signal (`die_with_parent`), so most of them are gone
before anyone runs `stack down`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from rollout_bench.paths import stack_state_dir
from rollout_bench.stack.base import RunningStack
from rollout_bench.stack.identity import boot_id, is_same_process, started_after_boot_s

PR_SET_PDEATHSIG = 1
TERM_GRACE_S = 5.0
_LOCK = threading.Lock()
_RECORD: RunRecord | None = None


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A preexec_fn that asks Linux to send `sig` to the child when its parent ends; None
    off the main thread (the signal fires when the spawning *thread* ends) or off Linux."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(os, "getppid"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            return  # not Linux: the recorded pid is the fallback
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def runs_dir() -> Path:
    return stack_state_dir() / "runs"


def _start(pid: int) -> float | None:
    try:
        return started_after_boot_s(pid)
    except psutil.NoSuchProcess:
        return None


class RunRecord:
    """This process's record; written whole on every change (a crash leaves a valid file)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.started_after_boot_s = _start(self.pid)
        self.path = runs_dir() / f"{self.pid}-{int((self.started_after_boot_s or 0) * 1000)}.json"
        self.data: dict[str, Any] = {"pid": self.pid, "boot_id": boot_id(),
                                     "started_after_boot_s": self.started_after_boot_s, "children": [],
                                     "paths": [], "redis_prefixes": []}

    def add_child(self, pid: int, name: str) -> None:
        self.data["children"].append({"pid": pid, "started_after_boot_s": _start(pid), "name": name})
        self._write()

    def add_path(self, path: Path) -> None:
        self.data["paths"].append(str(path))
        self._write()

    def add_redis_prefix(self, redis_url: str, prefix: str) -> None:
        self.data["redis_prefixes"].append({"url": redis_url, "prefix": prefix})
        self._write()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(self.data))
        partial.chmod(0o600)
        partial.replace(self.path)


def run_record() -> RunRecord:
    """This process's record, created on first use and removed at normal exit."""
    global _RECORD
    with _LOCK:
        if _RECORD is None or _RECORD.pid != os.getpid():
            _RECORD = RunRecord()
            atexit.register(_RECORD.discard)
        return _RECORD


def record_child(pid: int, name: str) -> None:
    run_record().add_child(pid, name)


def record_path(path: Path) -> None:
    run_record().add_path(path)


def record_redis_prefix(redis_url: str, prefix: str) -> None:
    run_record().add_redis_prefix(redis_url, prefix)


def _alive(pid: int, started: float | None, boot: str) -> psutil.Process | None:
    """The recorded process when it still runs (recorded in this boot, same start)."""
    if boot != boot_id() or not is_same_process(pid, started):
        return None
    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc
    except psutil.NoSuchProcess:
        return None


def _end(proc: psutil.Process) -> None:
    family = [proc]
    with contextlib.suppress(psutil.NoSuchProcess):
        family += proc.children(recursive=True)
    family += [p for p in psutil.process_iter() if _in_session(p, proc.pid) and p not in family]
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.terminate()
    _, left = psutil.wait_procs(family, timeout=TERM_GRACE_S)
    for member in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(left, timeout=TERM_GRACE_S)


def _in_session(proc: psutil.Process, session: int) -> bool:
    try:
        return proc.pid != session and os.getsid(proc.pid) == session
    except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
        return False


def _delete_redis_keys(url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(client.delete(*batch))
                batch = []
        if batch:
            deleted += int(client.delete(*batch))
    except (redis.ConnectionError, redis.TimeoutError):
        return deleted  # the server of a dead run may be gone too: nothing of it left to clean
    finally:
        client.close()
    return deleted


def end_orphans() -> list[str]:
    """Ends what runs killed before left: returns one line per thing ended or removed."""
    done: list[str] = []
    folder = runs_dir()
    if not folder.is_dir():
        return done
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        boot = str(data.get("boot_id", ""))
        if data.get("pid") == os.getpid() or _alive(int(data["pid"]), data.get("started_after_boot_s"), boot):
            continue  # its runner is still running: not an orphan
        for child in data.get("children", []):
            proc = _alive(int(child["pid"]), child.get("started_after_boot_s"), boot)
            if proc is not None:
                _end(proc)
                done.append(f"ended {child['name']} (pid {child['pid']}) of dead run {data['pid']}")
        for leftover in map(Path, data.get("paths", [])):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.exists():
                leftover.unlink(missing_ok=True)
            else:
                continue
            done.append(f"removed {leftover}")
        for entry in data.get("redis_prefixes", []):
            count = _delete_redis_keys(entry["url"], entry["prefix"])
            if count:
                done.append(f"deleted {count} Redis keys {entry['prefix']}:* of dead run {data['pid']}")
        path.unlink(missing_ok=True)
    return done


def _sigterm_as_sigint(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def start_run_hygiene(progress: Callable[[str], None]) -> None:
    """For a runner: SIGTERM handled like SIGINT (the same clean stop, exit 130), and what
    killed runs before left behind ended first."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm_as_sigint)
    for line in end_orphans():
        progress(f"cleanup: {line}")


def own_redis_prefix(redis_url: str, prefix: str) -> None:
    """The run's BullMQ keys (`prefix:*`) are deleted when it exits, or by `stack down` or
    the next run if it was killed: a run on a shared Redis leaves no keys behind."""
    record_redis_prefix(redis_url, prefix)
    atexit.register(_delete_redis_keys, redis_url, prefix)


def own_nats_namespace(stack: RunningStack, namespace: str) -> None:
    """The run's own JetStream stream (NATS_NAMESPACE=`namespace`) is deleted before the
    stack stops: a run on a shared NATS never touches the shared stream and leaves none of
    its own (the stream also expires after a day, should the run be killed)."""
    from rollout_bench.stack.nats import delete_pipeline_stream

    url = stack.urls.nats_url
    delete_pipeline_stream(url, namespace)  # a stale one from a killed run with this id
    stack.cleanups.append(lambda: _delete_stream_quietly(url, namespace))


def _delete_stream_quietly(nats_url: str, namespace: str) -> None:
    from rollout_bench.stack.nats import delete_pipeline_stream

    try:
        delete_pipeline_stream(nats_url, namespace)
    except (OSError, TimeoutError) as exc:  # NATS gone at exit: say so, nothing else to do
        print(f"note: could not delete NATS stream of {namespace}: {type(exc).__name__}: {exc}", file=sys.stderr)
