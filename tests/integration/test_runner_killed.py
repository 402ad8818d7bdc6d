"""Nothing outlives the run: the loadtest runner killed with SIGKILL during load leaves
pipeline processes and Locust that the next `stack down` ends, with the run's temporary
files (private config) and keys; SIGTERM stops a run like Ctrl-C (exit 130, nothing left)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis

from rollout_bench.paths import project_root
from rollout_bench.stack import StackUrls
from rollout_bench.stack.identity import is_same_process
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _isolated_root(tmp_path: Path) -> Path:
    """A project root of its own (its .stack/ and results/), reading the real ops/ and loadtests/."""
    root = tmp_path / "root"
    root.mkdir()
    for name in ("pyproject.toml", "ops", "loadtests", "fixtures"):
        (root / name).symlink_to(project_root() / name)
    return root


def _records(root: Path) -> list[dict]:
    folder = root / ".stack" / "runs"
    out = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            out.append(json.loads(path.read_text()))
        except ValueError:
            continue  # being rewritten
    return out


def _alive(pid: int, started: float | None) -> bool:
    try:
        return is_same_process(pid, started) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start_run(root: Path, stack_urls: StackUrls, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ROLLOUT_BENCH_ROOT": str(root), **stack_urls.as_env()}
    return subprocess.Popen([sys.executable, "-m", "rollout_bench", "loadtest", "--week", "5", "--profile", "smoke",
                             "--stack", "external"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _under_load(root: Path, runner: subprocess.Popen[bytes], log: Path) -> dict:
    def locust_recorded() -> dict | None:
        assert runner.poll() is None, log.read_text()[-3000:]
        mine = [r for r in _records(root) if r["pid"] == runner.pid]
        if mine and any(c["name"] == "locust" for c in mine[0]["children"]):
            return mine[0]
        return None

    return wait_until(locust_recorded, timeout=240, interval=0.5, what="the run under load")


def test_sigkill_of_runner_then_stack_down_leaves_nothing(stack_urls: StackUrls, tmp_path: Path) -> None:
    root = _isolated_root(tmp_path)
    log = tmp_path / "run.log"
    runner = _start_run(root, stack_urls, log)
    try:
        record = _under_load(root, runner, log)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    children = record["children"]
    assert {c["name"].split("-")[0] for c in children} >= {"pipeline worker", "locust"}
    assert record["paths"], "the private config file is recorded"
    assert record["redis_prefixes"], "the run's BullMQ prefix is recorded"
    env = {**os.environ, "ROLLOUT_BENCH_ROOT": str(root)}
    down = subprocess.run([sys.executable, "-m", "rollout_bench", "stack", "down"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    left = [c for c in children if _alive(c["pid"], c["started_after_boot_s"])]
    assert left == [], left
    assert [p for p in record["paths"] if Path(p).exists()] == []
    assert _records(root) == []
    assert _keys_left(record) == {}


def _keys_left(record: dict) -> dict[str, int]:
    """The run's BullMQ keys still in Redis, by prefix."""
    left = {}
    for entry in record["redis_prefixes"]:
        client = redis.Redis.from_url(entry["url"])
        count = sum(1 for _ in client.scan_iter(match=f"{entry['prefix']}:*", count=500))
        client.close()
        if count:
            left[entry["prefix"]] = count
    return left


def test_sigterm_stops_a_run_like_ctrl_c(stack_urls: StackUrls, tmp_path: Path) -> None:
    root = _isolated_root(tmp_path)
    log = tmp_path / "run.log"
    runner = _start_run(root, stack_urls, log)
    try:
        record = _under_load(root, runner, log)
        runner.send_signal(signal.SIGTERM)
        code = runner.wait(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert code == 130, log.read_text()[-3000:]
    assert [c for c in record["children"] if _alive(c["pid"], c["started_after_boot_s"])] == []
    assert [p for p in record["paths"] if Path(p).exists()] == []
    assert _records(root) == []
    assert record["redis_prefixes"] and _keys_left(record) == {}
