"""The loopback guard reads each URL as its client does, and decides before any DNS lookup
or socket: the issue's bypasses (`?host=`, `?hostaddr=`, a second host) are refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from rollout_bench.errors import UserError
from rollout_bench.safety import check_load_target, dialed_hosts
from rollout_bench.stack.select import start_stack

REFUSED = [
    "postgresql://u@127.0.0.1/x?host=192.0.2.10",
    "postgresql://u@127.0.0.1/x?hostaddr=192.0.2.10",
    "postgresql://u@127.0.0.1,192.0.2.10/x",
    "host=127.0.0.1,192.0.2.10 dbname=x",
    "host=localhost hostaddr=192.0.2.10 dbname=x",
    "postgresql://u@db.example.test/x",
    "redis://192.0.2.10:6379/0",
    "rediss://cache.example.test:6380/0",
    "nats://192.0.2.10:4222",
    "tls://u:p@192.0.2.10",
    "192.0.2.10:4222",
]
ALLOWED = [
    "postgresql://u@127.0.0.1/x", "postgresql://u@[::1]:5432/x", "postgresql:///x?host=/var/run/postgresql",
    "host=/tmp dbname=x", "postgresql://u@localhost/x?hostaddr=127.0.0.1", "redis://127.0.0.1:6379/0",
    "redis://localhost", "unix:///tmp/redis.sock", "nats://127.0.0.1:4222", "nats://localhost", "127.0.0.5:8080",
]


@pytest.mark.parametrize("target", REFUSED)
def test_client_read_bypasses_are_refused(target: str) -> None:
    with pytest.raises(UserError, match="refusing to send load to"):
        check_load_target(target, {})


@pytest.mark.parametrize("target", ALLOWED)
def test_loopback_and_sockets_pass(target: str) -> None:
    check_load_target(target, {})


def test_libpq_reads_both_host_and_hostaddr() -> None:
    assert dialed_hosts("postgresql://u@127.0.0.1/x?hostaddr=192.0.2.10", {}) == ["127.0.0.1", "192.0.2.10"]
    assert dialed_hosts("postgresql:///x", {"PGHOST": "192.0.2.10"}) == ["192.0.2.10"]


def test_a_named_host_is_allowed_by_name_only() -> None:
    check_load_target("redis://staging-redis:6379/0", {"LOADTEST_ALLOWED_HOSTS": "staging-redis"})
    with pytest.raises(UserError, match="LOADTEST_ALLOWED_HOSTS=192.0.2.10"):
        check_load_target("postgresql://u@staging-redis/x?hostaddr=192.0.2.10",
                          {"LOADTEST_ALLOWED_HOSTS": "staging-redis"})


def test_service_files_and_unknown_schemes_are_refused() -> None:
    with pytest.raises(UserError, match="pg_service.conf"):
        check_load_target("postgresql:///x?service=prod", {})
    with pytest.raises(UserError, match="scheme 'http'"):
        check_load_target("http://127.0.0.1/", {})


@pytest.fixture
def network_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple]]:
    calls: list[tuple] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> object:
        calls.append(("connect", address))
        return real_connect(self, address)

    def getaddrinfo(*args: object, **kwargs: object) -> object:
        calls.append(("getaddrinfo", args))
        return real_getaddrinfo(*args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield calls


@pytest.mark.parametrize("bad", ["DATABASE_URL", "REDIS_URL", "NATS_URL"])
def test_external_stack_refuses_before_any_lookup_or_socket(bad: str, network_calls: list[tuple]) -> None:
    env = {"DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1/0",
           "NATS_URL": "nats://127.0.0.1:1",
           bad: {"DATABASE_URL": "postgresql://u@127.0.0.1/x?host=192.0.2.10", "REDIS_URL": "redis://192.0.2.10/0",
                 "NATS_URL": "nats://192.0.2.10:4222"}[bad]}
    with pytest.raises(UserError, match="192.0.2.10"):
        start_stack("external", env=env)
    assert network_calls == []
