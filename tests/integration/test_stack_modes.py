"""Stack modes: the embedded stack comes up, answers and leaves nothing behind; auto picks
external when the URLs are set; containers say why they cannot run here."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack import running_stack, start_stack
from rollout_bench.stack.containers import docker_available
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_embedded_stack_answers_and_leaves_nothing_behind() -> None:
    before = _children()
    with running_stack("embedded", quiet=True) as stack:
        assert stack.mode == "embedded"
        assert stack.health() == {"redis": None, "nats": None, "postgres": None}
        assert stack.pg_stat_statements
        ports = {int(url.rsplit(":", 1)[1].split("/")[0]) for url in stack.urls.as_env().values()}
        assert all(url.split("://")[1].split("@")[-1].startswith("127.0.0.1:") for url in stack.urls.as_env().values())
    listening = {c.laddr.port for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert not ports & listening
    # stopped servers' own children exit just after them: nothing may remain once they have
    wait_until(lambda: _children() <= before, timeout=10, what="no child process left")


def test_embedded_redis_restart_keeps_data_with_aof() -> None:
    import redis

    with running_stack("embedded", redis_aof=True, quiet=True) as stack:
        client = redis.Redis.from_url(stack.urls.redis_url)
        client.set("kept", "yes")
        client.close()
        stack.restart("redis")
        client = redis.Redis.from_url(stack.urls.redis_url)
        assert client.get("kept") == b"yes"
        client.close()


def test_auto_picks_external_when_the_urls_are_set(stack_urls) -> None:
    env = {"REDIS_URL": stack_urls.redis_url, "NATS_URL": stack_urls.nats_url, "DATABASE_URL": stack_urls.database_url}
    stack = start_stack("auto", env=env, use_state=False)
    assert (stack.mode, stack.owned) == ("external", False)
    assert "REDIS_URL" in stack.reason


def test_external_server_that_does_not_answer_is_a_one_line_error() -> None:
    env = {"REDIS_URL": "redis://127.0.0.1:1/0", "NATS_URL": "nats://127.0.0.1:1", "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    with pytest.raises(InfrastructureError, match="redis") as info:
        start_stack("external", env=env)
    assert "\n" not in str(info.value)


def test_containers_need_docker() -> None:
    problem = docker_available()
    if problem is None:
        pytest.skip("a Docker engine answers here; the containers mode is exercised by CI with Docker")
    with pytest.raises(InfrastructureError, match="Docker"):
        start_stack("containers")


def test_cli_round_trip(tmp_path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rollout_bench", "stack", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    up = cli("up", "--mode", "embedded")
    assert up.returncode == 0, up.stderr
    assert "REDIS_URL=redis://127.0.0.1:" in up.stdout
    assert "answers" in cli("status").stdout
    assert cli("down").returncode == 0
    assert cli("status").returncode == 1
