"""Distributed load across "machines": two network namespaces joined only by a veth pair.
The master namespace holds the load target (a redis-server started here, bound to its veth
address) and the Locust master (run_load(master=True)); the other holds the worker, started
the documented way (`rollout-bench load-worker`). The worker fires the whole schedule (a
master fires nothing), so every job in Redis crossed the veth; the master's load.json must
hold all of them, merged, with the histograms and Locust's request counts to match.
Needs root, iproute2 and redis-server (skipped otherwise); every namespace and process the
test made is removed in a finally."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.safety import ALLOW_ENV
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

MASTER_ADDRESS, WORKER_ADDRESS = "198.51.100.1", "198.51.100.2"  # TEST-NET-2: never routed
REDIS_PORT, MASTER_PORT = 6390, 5557
RATE_SYNCS_PER_S, DURATION_S = 20.0, 6.0
RUN_DEADLINE_S = 120.0
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


def _in(namespace: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", namespace, *argv]


@dataclass
class Hosts:
    master: str  # namespace names
    worker: str


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces (ip netns add)")
    if not Path(REDIS_SERVER).is_file():
        pytest.skip("needs redis-server to serve as the load target inside the master's namespace")
    tag = uuid.uuid4().hex[:6]
    made = Hosts(f"lm-{tag}", f"lw-{tag}")
    created: list[str] = []
    try:
        for name in (made.master, made.worker):
            result = _ip("netns", "add", name)
            if result.returncode != 0:
                pytest.skip(f"cannot create a network namespace here: {result.stderr.strip()}")
            created.append(name)
        steps = [
            ["link", "add", f"vm{tag}", "type", "veth", "peer", "name", f"vw{tag}"],
            ["link", "set", f"vm{tag}", "netns", made.master],
            ["link", "set", f"vw{tag}", "netns", made.worker],
            ["-n", made.master, "addr", "add", f"{MASTER_ADDRESS}/24", "dev", f"vm{tag}"],
            ["-n", made.worker, "addr", "add", f"{WORKER_ADDRESS}/24", "dev", f"vw{tag}"],
        ]
        for ns, link in ((made.master, f"vm{tag}"), (made.worker, f"vw{tag}")):
            steps += [["-n", ns, "link", "set", "lo", "up"], ["-n", ns, "link", "set", link, "up"]]
        for step in steps:
            result = _ip(*step)
            assert result.returncode == 0, f"ip {' '.join(step)}: {result.stderr}"
        yield made
    finally:
        for name in created:
            _ip("netns", "del", name)


class Children:
    """The processes this test started, each in its own session: ended and waited for."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        self.started.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.started):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def _redis_cli(namespace: str, *command: str) -> str:
    return subprocess.run(_in(namespace, "redis-cli", "-h", MASTER_ADDRESS, "-p", str(REDIS_PORT), *command),
                          capture_output=True, text=True, timeout=10).stdout.strip()


def _sent_packets(namespace: str) -> int:
    out = subprocess.run(_in(namespace, "sh", "-c", "cat /sys/class/net/vw*/statistics/tx_packets"),
                         capture_output=True, text=True, timeout=10, check=True).stdout
    return int(out)


def test_a_worker_in_another_namespace_fires_the_load_and_the_master_merges_it(hosts: Hosts,
                                                                             tmp_path: Path) -> None:
    prefix = f"netns-{uuid.uuid4().hex[:6]}"
    target = f"redis://{MASTER_ADDRESS}:{REDIS_PORT}/0"
    unused = f"postgresql://postgres@{MASTER_ADDRESS}:5432/postgres"  # no legacy tenant, no mutation: never dialed
    config = LoadConfig(target, unused, f"nats://{MASTER_ADDRESS}:4222", prefix,
                        {"USE_BULLMQ": "true", "MIGRATION_PERCENTAGE": "100"},
                        [Tenant(f"netns-tenant-{i}", f"netns-ds-{i}") for i in range(6)], [], "constant",
                        str(tmp_path / "out"), rate_syncs_per_s=RATE_SYNCS_PER_S, duration_s=DURATION_S,
                        arrivals="poisson")
    (tmp_path / "out").mkdir()
    config_path = tmp_path / "config.json"
    config.save(config_path)
    worker_copy = tmp_path / "worker-config.json"  # what the worker host would hold: a copy of the master's
    shutil.copy(config_path, worker_copy)
    env = {**os.environ, ALLOW_ENV: MASTER_ADDRESS}
    master_script = tmp_path / "master.py"
    master_script.write_text(
        "import json, sys\nfrom pathlib import Path\nfrom rollout_bench.collect.histograms import decode\n"
        "from rollout_bench.load.locust import run_load\n"
        f"r = run_load(Path({str(config_path)!r}), Path({str(tmp_path / 'out')!r}), master=True, expect_workers=1,\n"
        f"             master_bind_host={MASTER_ADDRESS!r}, master_port={MASTER_PORT}, timeout_s={RUN_DEADLINE_S})\n"
        "print(json.dumps({'counts': r.counts, 'jobs': r.jobs, 'exit': r.locust_exit_code,\n"
        "                  'requests': r.request_totals(), 'lateness': decode(r.histograms['lateness_ms']).get_total_count(),\n"
        "                  'enqueue': decode(r.histograms['enqueue_ms']).get_total_count()}))\n")
    children = Children()
    try:
        children.start(_in(hosts.master, REDIS_SERVER, "--bind", MASTER_ADDRESS, "--port", str(REDIS_PORT), "--save",
                           "", "--appendonly", "no", "--protected-mode", "no", "--dir", str(tmp_path)), env,
                       tmp_path / "redis.log")
        wait_until(lambda: _redis_cli(hosts.master, "ping") == "PONG", timeout=20, what="redis-server in the namespace")
        assert _redis_cli(hosts.worker, "ping") == "PONG", "the worker's namespace reaches the target over the veth"
        sent_before = _sent_packets(hosts.worker)
        master = children.start(_in(hosts.master, sys.executable, str(master_script)), env, tmp_path / "master.out")
        worker = children.start(_in(hosts.worker, sys.executable, "-m", "rollout_bench", "load-worker", "--config",
                                    str(worker_copy), "--master-host", MASTER_ADDRESS, "--master-port",
                                    str(MASTER_PORT)), env, tmp_path / "worker.log")
        master.wait(timeout=RUN_DEADLINE_S)
        worker.wait(timeout=30)
        output = (tmp_path / "master.out").read_text()
        assert master.returncode == 0, output + (tmp_path / "out" / "locust.log").read_text()
        result = json.loads(output.strip().splitlines()[-1])
        counts = result["counts"]
        assert counts["arrivals_planned"] > 60, "the master planned the schedule"
        assert counts["arrivals_fired"] == counts["arrivals_planned"], "the worker fired every arrival, none dropped"
        assert len(result["jobs"]) == 5 * counts["arrivals_fired"], "every job the worker enqueued, merged at the master"
        assert len({j["job_key"] for j in result["jobs"]}) == len(result["jobs"])
        assert result["lateness"] == result["enqueue"] == counts["arrivals_fired"], "the worker's histograms merged"
        assert result["requests"] == {"requests": counts["arrivals_fired"], "failures": 0}, "Locust's stats merged"
        assert int(_redis_cli(hosts.master, "zcard", f"{prefix}:pipeline-jobs:prioritized")) == len(result["jobs"]), \
            "the jobs arrived in Redis"
        assert _sent_packets(hosts.worker) - sent_before > counts["arrivals_fired"] / 10, \
            "the worker's namespace sent the load over its veth"
        assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
    finally:
        children.stop_all()
