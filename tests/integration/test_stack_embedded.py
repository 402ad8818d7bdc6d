"""Embedded stack edge cases: a server that cannot start is a one-line error naming it (and
what did start is stopped); a drill's restart of a stack left up by `stack up` is still
stopped by `stack down`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack import start_stack
from rollout_bench.stack.select import stack_up_state

pytestmark = pytest.mark.integration


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("NATS_SERVER_BIN", "/nonexistent/nats-server", r"embedded nats cannot start /nonexistent/nats-server"),
    ("NATS_SERVER_BIN", "/bin/false", r"embedded nats did not come up: exited with code 1"),
    ("POSTGRES_BIN_DIR", "/nonexistent/pg/bin", r"embedded postgres cannot run /nonexistent/pg/bin/postgres"),
])
def test_a_server_that_cannot_start_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                        value: str, expected: str) -> None:
    monkeypatch.setenv(variable, value)
    before = _children()
    with pytest.raises(InfrastructureError, match=expected) as info:
        start_stack("embedded")
    assert "\n" not in str(info.value)
    assert _children() <= before  # redis (and nats) that did start were stopped


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rollout_bench", "stack", *args], cwd=cwd,
                          env={**os.environ, "ROLLOUT_BENCH_ROOT": str(cwd)},
                          capture_output=True, text=True, timeout=60)


def test_down_stops_a_server_restarted_by_a_drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    up = _cli(tmp_path, "up", "--mode", "embedded")
    try:
        assert up.returncode == 0, up.stderr
        assert (tmp_path / ".stack" / "env").read_text().count("export ") == 3
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("ROLLOUT_BENCH_ROOT", str(tmp_path))
        found = stack_up_state()
        assert found is not None and not found.owned and found.pg_stat_statements
        found.restart("redis")
        new_pid = json.loads((tmp_path / ".stack" / "state.json").read_text())["pids"]["redis"]
        assert psutil.pid_exists(new_pid)
    finally:
        down = _cli(tmp_path, "down")
    assert down.returncode == 0, down.stderr
    assert not psutil.pid_exists(new_pid) or psutil.Process(new_pid).status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / ".stack" / "state.json").exists()
