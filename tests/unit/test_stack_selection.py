"""Stack selection without servers: auto's order and its one-line reason, fakes in place of
real stacks, and the one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollout_bench.errors import InfrastructureError, UserError
from rollout_bench.stack import (
    RunningStack,
    StackUrls,
    running_stack,
    select,
    start_stack,
)
from rollout_bench.stack.base import RestartNotSupported
from rollout_bench.stack.embedded import redis_config

URLS = StackUrls("redis://127.0.0.1:1/0", "nats://127.0.0.1:2", "postgresql://postgres@127.0.0.1:3/postgres")
URL_ENV = {"REDIS_URL": URLS.redis_url, "NATS_URL": URLS.nats_url, "DATABASE_URL": URLS.database_url}


class FakeStack(RunningStack):
    stopped = 0

    def health(self) -> dict[str, str | None]:
        return {"redis": None, "nats": None, "postgres": None}

    def stop(self) -> None:
        FakeStack.stopped += 1


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No real stack: a clean project root (no .stack/), no URLs, no Docker, embedded replaced by a fake."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLLOUT_BENCH_ROOT", str(tmp_path))
    for name in URL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(select, "docker_available", lambda: "no Docker engine answers (DockerException)")
    monkeypatch.setattr(select.EmbeddedStack, "start",
                        classmethod(lambda cls, reason, **kw: FakeStack(URLS, "embedded", reason, owned=True)))
    monkeypatch.setattr(RunningStack, "check_pg_stat_statements", lambda self, create=False: True)
    FakeStack.stopped = 0
    yield


def test_auto_falls_back_to_embedded_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    with running_stack("auto") as stack:
        assert stack.mode == "embedded"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("stack: embedded (") and "no Docker engine" in err[0]
    assert FakeStack.stopped == 1


def test_auto_picks_external_when_all_three_urls_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RunningStack, "health", lambda self: {"redis": None, "nats": None, "postgres": None})
    stack = start_stack("auto", env=URL_ENV)
    assert (stack.mode, stack.owned) == ("external", False)
    assert stack.describe() == "stack: external (REDIS_URL, NATS_URL, DATABASE_URL are set)"


def test_auto_ignores_a_partial_set_of_urls() -> None:
    assert start_stack("auto", env={"REDIS_URL": URLS.redis_url}).mode == "embedded"


def test_auto_prefers_containers_when_docker_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "docker_available", lambda: None)
    monkeypatch.setattr(select.ContainerStack, "start",
                        classmethod(lambda cls, reason, **kw: FakeStack(URLS, "containers", reason, owned=True)))
    assert start_stack("auto", env={}).mode == "containers"


def test_auto_uses_a_stack_left_up_when_it_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RunningStack, "health", lambda self: {"redis": None, "nats": None, "postgres": None})
    Path(".stack").mkdir()
    Path(".stack/state.json").write_text(json.dumps({"mode": "external", "reason": "x", "urls": URL_ENV}))
    stack = start_stack("auto", env={})
    assert (stack.mode, stack.owned, stack.urls) == ("external", False, URLS)
    assert "stack up" in stack.reason


def test_a_stack_left_up_that_no_longer_answers_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RunningStack, "health", lambda self: {"redis": "PING failed", "nats": None, "postgres": None})
    Path(".stack").mkdir()
    Path(".stack/state.json").write_text(json.dumps({"mode": "external", "reason": "x", "urls": URL_ENV}))
    assert start_stack("auto", env={}).mode == "embedded"


def test_external_names_the_missing_variable() -> None:
    with pytest.raises(InfrastructureError, match="NATS_URL") as info:
        start_stack("external", env={"REDIS_URL": URLS.redis_url, "DATABASE_URL": URLS.database_url})
    assert "\n" not in str(info.value)


def test_bad_mode_names_the_value_and_what_is_allowed() -> None:
    with pytest.raises(UserError, match=r"'compose'.*auto, external, containers, embedded"):
        start_stack("compose")


def test_found_stacks_cannot_restart_and_are_not_stopped() -> None:
    stack = RunningStack(URLS, "external", "set", owned=False)
    with pytest.raises(RestartNotSupported, match="external"):
        stack.restart("redis")
    with pytest.raises(UserError, match="'mongo'"):
        stack.restart("mongo")  # type: ignore[arg-type]
    stack.stop()  # a no-op for a stack this process did not start


def test_redis_config_binds_loopback_only_and_switches_aof(tmp_path: Path) -> None:
    lines = redis_config(tmp_path, 1234, aof=True).splitlines()
    assert [line for line in lines if line.startswith("bind")] == ["bind 127.0.0.1"]
    assert "appendonly yes" in lines and "port 1234" in lines
    assert "appendonly no" in redis_config(tmp_path, 1234, aof=False).splitlines()


def test_cli_bad_mode_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "rollout_bench", "stack", "up", "--mode", "compose"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "compose" in done.stderr
