"""A process is known by its start after boot, which a step of the wall clock does not move
(a virtual machine restored from a snapshot steps it; psutil's create_time moves with it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from rollout_bench.stack import identity
from rollout_bench.stack.processes import ServerProcess


def test_start_after_boot_matches_psutil_less_the_boot_time() -> None:
    proc = psutil.Process()
    assert identity.started_after_boot_s(proc.pid) == pytest.approx(
        proc.create_time() - psutil.boot_time(), abs=1.5)  # psutil's boot time is whole seconds


def test_a_name_with_spaces_and_parentheses_is_parsed(tmp_path: Path) -> None:
    odd = tmp_path / "a (b) c"
    odd.symlink_to("/bin/sleep")
    child = subprocess.Popen([str(odd), "30"])
    try:
        assert identity.is_same_process(child.pid, identity.started_after_boot_s(child.pid))
    finally:
        child.kill()
        child.wait()


def test_gone_and_reused_pids_are_not_the_recorded_process() -> None:
    child = subprocess.Popen(["sleep", "30"])
    started = identity.started_after_boot_s(child.pid)
    assert identity.is_same_process(child.pid, started) and identity.is_same_process(child.pid, None)
    assert not identity.is_same_process(child.pid, started - 5.0)  # a pid that another process reuses
    child.kill()
    child.wait()
    assert not identity.is_same_process(child.pid, started)
    with pytest.raises(psutil.NoSuchProcess):
        identity.started_after_boot_s(child.pid)


def test_a_wall_clock_step_does_not_lose_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure this replaced: after the boot time moved (as psutil computes it from the
    wall clock), a runner no longer knew its own Redis, never signalled it, and crashed
    waiting for it to exit."""
    server = ServerProcess("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "log")
    server.spawn()
    real = psutil.Process.create_time
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: real(self) + 7.0)  # btime stepped 7 s
    try:
        assert server.process() is not None
        recorded = ServerProcess.from_dict(server.to_dict())  # e.g. stack up's state file
        assert recorded.process() is not None
    finally:
        server.stop(timeout=5)
    assert server.process() is None and server.exit_code() is not None


def test_boot_id_is_this_boots() -> None:
    if not Path("/proc/sys/kernel/random/boot_id").exists():
        pytest.skip("no /proc/sys/kernel/random/boot_id (not Linux)")
    assert len(identity.boot_id()) == 36 and identity.boot_id() == identity.boot_id()
