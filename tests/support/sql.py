"""Plain SQL from tests: run statements, read rows."""

from __future__ import annotations

from typing import Any

import psycopg


def run_sql(database_url: str, *statements: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def fetch_rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchall()
