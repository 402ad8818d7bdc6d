"""A pool of Postgres connections; each unit of work (a job, an analysis) takes its own
connection, so `Db.counting()` counts that unit's statements and nobody else's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg_pool import AsyncConnectionPool

from msp_pipeline.db import Db
from msp_pipeline.metrics import Metrics


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                               kwargs={"autocommit": True}, name="pipeline")
    await pool.open(wait=True, timeout=15)
    return pool


@asynccontextmanager
async def db_session(pool: AsyncConnectionPool, metrics: Metrics | None = None) -> AsyncIterator[Db]:
    async with pool.connection() as conn:
        yield Db(conn, metrics)
