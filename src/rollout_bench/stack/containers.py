"""testcontainers: Redis 7, NATS 2 with JetStream, Postgres 16 with pg_stat_statements.
Needs a Docker engine; `docker_available()` says whether one answers, and why not."""

from __future__ import annotations

from typing import Any

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack.base import RunningStack
from rollout_bench.stack.urls import StackUrls


def docker_available() -> str | None:
    """None when a Docker engine answers, else the reason."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # any failure means: no engine here
        return f"no Docker engine answers ({type(exc).__name__})"
    return None


class ContainerStack(RunningStack):
    def __init__(self, urls: StackUrls, reason: str, containers: list[Any]) -> None:
        super().__init__(urls, "containers", reason, owned=True)
        self.containers = containers

    @classmethod
    def start(cls, reason: str, *, detached: bool = False) -> ContainerStack:
        """detached=True (`stack up`): Ryuk off, so the containers outlive this process; `stack down`
        removes them by the ids in the state file (remove_containers)."""
        problem = docker_available()
        if problem:
            raise InfrastructureError(f"containers: {problem}; use STACK=embedded or STACK=external")
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer
        from testcontainers.postgres import PostgresContainer
        from testcontainers.redis import RedisContainer

        if detached:
            testcontainers_config.ryuk_disabled = True
        started: list[Any] = []
        try:
            redis = RedisContainer("redis:7").start()
            started.append(redis)
            nats = DockerContainer("nats:2").with_command("-js").with_exposed_ports(4222).start()
            started.append(nats)
            postgres = PostgresContainer("postgres:16", username="postgres", password="postgres", dbname="postgres")
            postgres.with_command("postgres -c shared_preload_libraries=pg_stat_statements")
            started.append(postgres.start())
        except BaseException:
            for container in started:
                container.stop()
            raise
        urls = StackUrls(
            f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0",
            f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}",
            f"postgresql://postgres:postgres@{postgres.get_container_host_ip()}:{postgres.get_exposed_port(5432)}/postgres",
        )
        stack = cls(urls, reason, started)
        stack.check_pg_stat_statements(create=True)
        return stack

    def stop(self) -> None:
        for container in self.containers:
            container.stop()

    def to_state(self) -> dict[str, Any]:
        return {"mode": self.mode, "reason": self.reason, "urls": self.urls.as_env(),
                "container_ids": [container.get_container_id() for container in self.containers]}


def remove_containers(container_ids: list[str]) -> None:
    """`stack down` for a containers stack left up by `stack up`."""
    import docker
    from docker.errors import NotFound

    client = docker.from_env(timeout=10)
    try:
        for container_id in container_ids:
            try:
                client.containers.get(container_id).remove(force=True, v=True)
            except NotFound:
                continue  # already gone: that is what `down` wants
    finally:
        client.close()
