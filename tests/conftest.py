"""Shared fixtures. Integration tests get real servers through `stack_urls`:
the URLs in DATABASE_URL / REDIS_URL / NATS_URL when set (CI sets them to the machine's
services), else the embedded stack, started once per session and stopped at its end.

Isolation: each test gets a fresh Postgres database cloned from a migrated template,
Redis db 15 flushed, and the JetStream stream deleted, so tests never see each other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from rollout_bench.stack import StackUrls, open_stack
from rollout_bench.stack.nats import reset_pipeline_stream
from rollout_bench.stack.scratch import scratch_database

TEST_REDIS_DB = 15


@pytest.fixture(scope="session")
def stack_urls() -> Iterator[StackUrls]:
    with open_stack(os.environ.get("STACK", "auto")) as urls:
        yield urls


@pytest.fixture(scope="session")
def _template_database(stack_urls: StackUrls) -> Iterator[str]:
    with scratch_database(stack_urls.database_url, "tmpl") as url:
        yield url.rpartition("/")[2]


@pytest.fixture
def database_url(stack_urls: StackUrls, _template_database: str) -> Iterator[str]:
    """A fresh database with the schema applied, dropped after the test."""
    with scratch_database(stack_urls.database_url, "test", template=_template_database) as url:
        yield url


@pytest.fixture
def redis_url(stack_urls: StackUrls) -> Iterator[str]:
    """Redis db 15, flushed before and after the test."""
    import redis

    base, _, _ = stack_urls.redis_url.rpartition("/")
    url = f"{base}/{TEST_REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def nats_url(stack_urls: StackUrls) -> Iterator[str]:
    """NATS with the pipeline's JetStream stream deleted before and after the test."""
    reset_pipeline_stream(stack_urls.nats_url)
    yield stack_urls.nats_url
    reset_pipeline_stream(stack_urls.nats_url)


@pytest.fixture
def pipeline_env(database_url: str, redis_url: str, nats_url: str) -> dict[str, str]:
    """Environment for msp_pipeline.settings.Settings.from_env pointing at the test servers."""
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "NATS_URL": nats_url,
            "LEGACY_POLL_INTERVAL_S": "0.2", "LEGACY_DEBOUNCE_S": "0.5"}
