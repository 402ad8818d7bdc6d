"""The guard's refusal sends no packet: `loadtest --stack external` with a bypassing URL
runs inside a network namespace whose only way out is a veth pair that ends inside the
namespace (a default route to one end, packets counted there, nothing leaves); the run exits 2 naming the host and the interface's
transmit counter stays 0. A control connect in the same namespace moves the counter, so
the check can fail. Needs root and `ip netns` (skipped otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"guard-{uuid.uuid4().hex[:8]}"
    if os.geteuid() != 0 or _ip("netns", "add", name).returncode != 0:
        pytest.skip("needs root and `ip netns add`")
    try:
        for knob in ("all", "default"):  # no IPv6 autoconfiguration chatter on the counted link
            subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", f"net.ipv6.conf.{knob}.disable_ipv6=1"],
                           check=True, timeout=10)
        for step in (["link", "set", "lo", "up"], ["link", "add", "out0", "type", "veth", "peer", "name", "sink0"],
                     ["link", "set", "out0", "up"], ["link", "set", "sink0", "up"], ["addr", "add", "192.0.2.1/24", "dev", "out0"],
                     ["route", "add", "default", "dev", "out0"]):
            result = _ip("-n", name, *step)
            assert result.returncode == 0, result.stderr
        yield name
    finally:
        _ip("netns", "del", name)


def _sent(namespace: str) -> int:
    return int(
        subprocess.run(["ip", "netns", "exec", namespace, "cat", "/sys/class/net/out0/statistics/tx_packets"],
                       capture_output=True, text=True, timeout=10, check=True).stdout)


def _in_namespace(namespace: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", namespace, *argv], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("variable, url", [
    ("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres?host=192.0.2.10"),
    ("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres?hostaddr=192.0.2.10"),
    ("REDIS_URL", "redis://cache.example.test:6379/0"),
    ("NATS_URL", "nats://192.0.2.10:4222"),
])
def test_refusal_sends_no_packet(namespace: str, variable: str, url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
           "REDIS_URL": "redis://127.0.0.1:6379/0", "NATS_URL": "nats://127.0.0.1:4222", variable: url,
           "ROLLOUT_BENCH_RESULTS": str(tmp_path)}
    before = _sent(namespace)
    run = _in_namespace(namespace, [sys.executable, "-m", "rollout_bench", "loadtest", "--week", "5", "--profile",
                                    "smoke", "--stack", "external"], env)
    assert run.returncode == 2, run.stderr
    assert "refusing to send load to" in run.stderr
    assert _sent(namespace) == before
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir()), "no run folder"
    control = _in_namespace(namespace, [sys.executable, "-c",
                                        "import socket; s = socket.socket(); s.settimeout(0.5)\n"
                                        "try: s.connect(('192.0.2.10', 5432))\nexcept OSError: pass"], env)
    assert control.returncode == 0, control.stderr
    assert _sent(namespace) > before, "the control connect is counted: the check can see a packet"
