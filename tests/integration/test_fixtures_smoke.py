"""The shared fixtures give isolated, migrated databases and a clean Redis db."""

from __future__ import annotations

import psycopg
import pytest
import redis

pytestmark = pytest.mark.integration


def test_database_has_schema_and_is_empty(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions[0].startswith("001")


def test_each_test_gets_its_own_database(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO tenants (id, name) VALUES ('t1', 'one')")
        conn.commit()


def test_redis_db_is_flushed(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.close()
