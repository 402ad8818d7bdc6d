"""Shared fixtures. Integration tests get real servers through `stack_urls`:
the URLs in DATABASE_URL / REDIS_URL / NATS_URL when set (CI sets them to the machine's
services), else the embedded stack, started once per session and stopped at its end.

Isolation: each test gets a fresh Postgres database cloned from a migrated template,
Redis db 15 flushed, and the JetStream stream deleted, so tests never see each other.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from msp_pipeline.schema import apply_migrations
from rollout_bench.stack import StackUrls, open_stack

TEST_REDIS_DB = 15


@pytest.fixture(scope="session")
def stack_urls() -> Iterator[StackUrls]:
    with open_stack(os.environ.get("STACK", "auto")) as urls:
        yield urls


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def _template_database(stack_urls: StackUrls) -> Iterator[str]:
    name = f"tmpl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(stack_urls.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    apply_migrations(_with_database(stack_urls.database_url, name))
    yield name
    with psycopg.connect(stack_urls.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(stack_urls: StackUrls, _template_database: str) -> Iterator[str]:
    """A fresh database with the schema applied, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(stack_urls.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(_template_database)))
    yield _with_database(stack_urls.database_url, name)
    with psycopg.connect(stack_urls.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


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
    from tests.support.jetstream import delete_pipeline_stream

    delete_pipeline_stream(stack_urls.nats_url)
    yield stack_urls.nats_url
    delete_pipeline_stream(stack_urls.nats_url)


@pytest.fixture
def pipeline_env(database_url: str, redis_url: str, nats_url: str) -> dict[str, str]:
    """Environment for msp_pipeline.settings.Settings.from_env pointing at the test servers."""
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "NATS_URL": nats_url,
            "LEGACY_POLL_INTERVAL_S": "0.2", "LEGACY_DEBOUNCE_S": "0.5"}
