"""end_orphans: the record of a dead runner has its children ended (matched by pid and
start time) and its files removed; the record of a live runner is left alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from rollout_bench.stack import orphans
from rollout_bench.stack.identity import boot_id, started_after_boot_s


def _record(root: Path, runner: subprocess.Popen[bytes], children: list[subprocess.Popen[bytes]],
            paths: list[Path], boot: str | None = None) -> Path:
    boot = boot_id() if boot is None else boot
    folder = root / ".stack" / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{runner.pid}-1.json"
    path.write_text(json.dumps({
        "pid": runner.pid, "boot_id": boot,
        "started_after_boot_s": started_after_boot_s(runner.pid) if runner.poll() is None else 1.0,
        "children": [{"pid": c.pid, "started_after_boot_s": started_after_boot_s(c.pid), "name": f"child {c.pid}"}
                     for c in children],
        "paths": [str(p) for p in paths], "redis_prefixes": []}))
    return path


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_BENCH_ROOT", str(tmp_path))
    return tmp_path


def test_dead_runner_children_ended_and_files_removed(root: Path) -> None:
    runner = subprocess.Popen(["sleep", "60"])
    child = subprocess.Popen(["sleep", "60"])
    folder, config = root / "rollout-stack-x", root / "loadtest-config-x.json"
    folder.mkdir()
    config.write_text("{}")
    record = _record(root, runner, [child], [folder, config])
    runner.kill()
    runner.wait()
    try:
        done = orphans.end_orphans()
        assert child.wait(timeout=10) is not None
    finally:
        if child.poll() is None:
            child.kill()
    assert any(f"child {child.pid}" in line for line in done), done
    assert not folder.exists() and not config.exists() and not record.exists()


def test_live_runner_left_alone(root: Path) -> None:
    runner = subprocess.Popen(["sleep", "60"])
    child = subprocess.Popen(["sleep", "60"])
    record = _record(root, runner, [child], [])
    try:
        assert orphans.end_orphans() == []
        assert child.poll() is None and record.exists()
    finally:
        for proc in (runner, child):
            proc.kill()
            proc.wait()


def test_reused_pid_is_not_touched(root: Path) -> None:
    """A recorded child whose pid now belongs to another process (other start time) is spared."""
    runner = subprocess.Popen(["true"])
    runner.wait()
    stranger = subprocess.Popen(["sleep", "60"])
    record = _record(root, runner, [stranger], [])
    data = json.loads(record.read_text())
    data["children"][0]["started_after_boot_s"] -= 100.0
    record.write_text(json.dumps(data))
    try:
        assert orphans.end_orphans() == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_a_record_of_another_boot_ends_no_process(root: Path) -> None:
    """After a reboot every recorded pid is someone else's, even one whose start after boot
    happens to match: its children are spared, its files still removed."""
    runner = subprocess.Popen(["true"])
    runner.wait()
    stranger = subprocess.Popen(["sleep", "60"])
    folder = root / "rollout-stack-y"
    folder.mkdir()
    record = _record(root, runner, [stranger], [folder], boot="another-boot")
    try:
        done = orphans.end_orphans()
        assert done == [f"removed {folder}"]
        assert stranger.poll() is None and not folder.exists() and not record.exists()
    finally:
        stranger.kill()
        stranger.wait()
