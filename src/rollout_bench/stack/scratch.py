"""Scratch databases on a Postgres server: one per run or probe, so a measurement never
sees another's rows and pg_stat_statements can be read per database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from msp_pipeline.contract.schema import apply_migrations


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database (query string kept)."""
    head, _, query = url.partition("?")
    base, _, _ = head.rpartition("/")
    return f"{base}/{name}" + (f"?{query}" if query else "")


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(server_url: str, prefix: str, *, keep: bool = False, migrate: bool = True,
                     template: str | None = None) -> Iterator[str]:
    """Creates `<prefix>_<random>` (schema applied unless from a template), yields its URL,
    drops it afterwards unless keep."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template)
    try:
        if migrate and not template:
            apply_migrations(url)
        yield url
    finally:
        if not keep:
            drop_database(server_url, name)


def enable_pg_stat_statements(url: str) -> bool:
    """Creates the pg_stat_statements view in this database; False when the server does
    not preload the module (the query-count cross-check is then reported as unavailable)."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
        except psycopg.Error:
            return False
    return True
