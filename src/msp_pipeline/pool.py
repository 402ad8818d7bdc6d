"""A pool of Postgres connections; each unit of work (a job, an analysis) takes its own
connection, so `Db.counting()` counts that unit's statements and nobody else's.

The pool checks each connection before lending it (a backend ended by
pg_terminate_backend or a server restart is replaced, not lent), and keeps trying to
reconnect through an outage instead of giving up after psycopg_pool's default 5 minutes.
`DB_OUTAGE_ERRORS` are the errors a unit of work meets when Postgres goes away under it:
callers retry the unit on these, and only these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from msp_pipeline.db import Db
from msp_pipeline.metrics import Metrics

RECONNECT_TIMEOUT_S = 7 * 86_400.0  # keep reconnecting through any outage a drill or ops can cause
CONNECTION_WAIT_S = 30.0  # a unit of work waits this long for a connection, then PoolTimeout
DB_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError,
                                                     PoolTimeout)


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                               kwargs={"autocommit": True}, name="pipeline",
                               check=AsyncConnectionPool.check_connection, timeout=CONNECTION_WAIT_S,
                               reconnect_timeout=RECONNECT_TIMEOUT_S)
    await pool.open(wait=True, timeout=15)
    return pool


@asynccontextmanager
async def db_session(pool: AsyncConnectionPool, metrics: Metrics | None = None) -> AsyncIterator[Db]:
    async with pool.connection() as conn:
        yield Db(conn, metrics)
