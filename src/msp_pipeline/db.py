"""Database access that counts every statement against the analysis that issued it.

All pipeline SQL goes through `Db`: it loads the statement by name (sql/*.sql), tags it
with a leading `/* name */` comment (so pg_stat_statements can be matched to it), times
it into pipeline_query_duration_seconds{table,operation}, logs it as slow over 1 s, and
adds one statement (and the rows read) to every `QueryStats` opened with `counting()`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from msp_pipeline.contract import sql
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics

SLOW_QUERY_S = 1.0


def tagged(name: str, text: str) -> str:
    """The statement as sent: `/* legacy/mfa_identities */ SELECT ...`."""
    return f"/* {name} */ {text}"


@dataclass
class QueryStats:
    statements: int = 0
    rows_read: int = 0
    slow: int = 0
    seconds: float = 0.0


class Db:
    def __init__(self, conn: psycopg.AsyncConnection[Any], metrics: Metrics | None = None) -> None:
        self.conn = conn
        self.metrics = metrics
        self._open: list[QueryStats] = []

    @classmethod
    async def connect(cls, url: str, metrics: Metrics | None = None) -> Db:
        return cls(await psycopg.AsyncConnection.connect(url, autocommit=True), metrics)

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def counting(self) -> AsyncIterator[QueryStats]:
        stats = QueryStats()
        self._open.append(stats)
        try:
            yield stats
        finally:
            self._open.remove(stats)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self.conn.transaction():
            yield

    async def fetch(self, name: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Runs sql/<name>.sql and returns all rows."""
        text = sql.load(name)
        started = time.perf_counter()
        async with self.conn.cursor() as cur:
            await cur.execute(tagged(name, text), params)
            rows = await cur.fetchall() if cur.description else []
        self._record(name, text, started, len(rows))
        return rows

    async def execute(self, name: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Runs sql/<name>.sql for its effect; returns the row count."""
        text = sql.load(name)
        started = time.perf_counter()
        async with self.conn.cursor() as cur:
            await cur.execute(tagged(name, text), params)
            count = cur.rowcount
        self._record(name, text, started, 0)
        return count

    async def execute_many(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement per row would be N+1; executemany pipelines them but each row is
        still a statement, and is counted as one."""
        text = sql.load(name)
        started = time.perf_counter()
        async with self.conn.cursor() as cur:
            await cur.executemany(tagged(name, text), rows)
        for _ in range(max(len(rows), 1) - 1):
            self._count(0, 0.0, slow=False)
        self._record(name, text, started, 0)

    def _record(self, name: str, text: str, started: float, rows: int) -> None:
        seconds = time.perf_counter() - started
        slow = seconds > SLOW_QUERY_S
        if self.metrics:
            table, operation = sql.labels(text)
            self.metrics.query_duration.labels(table, operation).observe(seconds)
            if slow:
                self.metrics.slow_queries.inc()
        if slow:
            log("Db", "slow-query", f"{name} took {seconds * 1000:.0f} ms", level="warn",
                query=name, duration_ms=round(seconds * 1000, 1))
        self._count(rows, seconds, slow)

    def _count(self, rows: int, seconds: float, slow: bool) -> None:
        for stats in self._open:
            stats.statements += 1
            stats.rows_read += rows
            stats.seconds += seconds
            stats.slow += int(slow)
