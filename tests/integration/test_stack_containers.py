"""The containers mode (testcontainers: Redis 7, NATS 2 -js, Postgres 16 + pg_stat_statements).
Needs a Docker engine; without one it skips and says so."""

from __future__ import annotations

import pytest

from rollout_bench.stack import running_stack
from rollout_bench.stack.containers import docker_available

pytestmark = [pytest.mark.integration, pytest.mark.docker]

NO_DOCKER = docker_available()


@pytest.mark.skipif(NO_DOCKER is not None, reason=f"containers mode needs Docker: {NO_DOCKER}")
def test_containers_stack_answers_with_jetstream_and_pg_stat_statements() -> None:
    with running_stack("containers", quiet=True) as stack:
        assert stack.mode == "containers" and stack.owned
        assert stack.health() == {"redis": None, "nats": None, "postgres": None}
        assert stack.pg_stat_statements
