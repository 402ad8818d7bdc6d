"""Does each server answer? Redis PING; NATS connect + JetStream account info; Postgres SELECT 1.

Each check returns None when the server answers, else a one-line reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import nats
import psycopg
import redis

from rollout_bench.sql import load as load_sql
from rollout_bench.stack.urls import SERVER_NAMES, ServerName, StackUrls

T = TypeVar("T")
CHECK_TIMEOUT_S = 2.0


def one_line(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    return " ".join(text.split())


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, also when an event loop is running here."""
    async def main() -> T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def check_redis(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"PING failed: {one_line(exc)}"
    finally:
        client.close()
    return None


async def _check_nats(url: str) -> str | None:
    errors: list[str] = []
    parts = urlsplit(url)
    try:  # nats-py can wait forever on a refused first connection: ask TCP first
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), CHECK_TIMEOUT_S).close()
    except OSError as exc:
        return f"connect failed: {one_line(exc)}"

    async def record(exc: Exception) -> None:
        errors.append(one_line(exc))

    try:
        nc = await asyncio.wait_for(nats.connect(url, connect_timeout=int(CHECK_TIMEOUT_S), allow_reconnect=False,
                                                 max_reconnect_attempts=0, error_cb=record), CHECK_TIMEOUT_S * 2)
    except Exception as exc:  # nats-py raises several unrelated types (NoServersError, OSError, ...)
        detail = errors[-1] if errors else one_line(exc)
        return f"connect failed: {detail}"
    try:
        await nc.jetstream().account_info()
    except Exception as exc:  # JetStream off answers with an API error or a timeout
        return f"JetStream account info failed: {one_line(exc)}"
    finally:
        await nc.close()
    return None


def check_nats(url: str) -> str | None:
    return run_sync(lambda: _check_nats(url))


def check_postgres(url: str) -> str | None:
    try:
        with psycopg.connect(url, connect_timeout=int(CHECK_TIMEOUT_S), autocommit=True) as conn:
            conn.execute(load_sql("stack/select_one"))
    except psycopg.Error as exc:
        return f"SELECT 1 failed: {one_line(exc)}"
    return None


CHECKS: dict[ServerName, Callable[[str], str | None]] = {
    "redis": check_redis, "nats": check_nats, "postgres": check_postgres,
}


def check_all(urls: StackUrls) -> dict[str, str | None]:
    """{'redis': None | reason, 'nats': ..., 'postgres': ...}"""
    return {name: CHECKS[name](urls.url_of(name)) for name in SERVER_NAMES}


def pg_stat_statements_status(database_url: str, *, create: bool) -> str | None:
    """None when pg_stat_statements can be queried in this database, else why not.

    create=True first runs CREATE EXTENSION IF NOT EXISTS (for stacks this suite started).
    """
    try:
        with psycopg.connect(database_url, connect_timeout=int(CHECK_TIMEOUT_S), autocommit=True) as conn:
            if create:
                conn.execute(load_sql("stack/create_pg_stat_statements"))
            conn.execute(load_sql("stack/count_pg_stat_statements"))
    except psycopg.Error as exc:
        return one_line(exc)
    return None
