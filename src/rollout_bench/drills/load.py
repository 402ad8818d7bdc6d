"""A steady background load for drills: one tenant sync (five jobs) every `interval_s`,
on the path the current routing chooses, each job recorded. An enqueue that fails because
its server cannot be reached is a refusal, recorded with its time and reason (a drill
allows them only inside its fault window); any other failure is a load error, recorded
too, and fails the drill."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import psycopg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.migration import TenantMigration
from rollout_bench.pipeline.wire import (
    enqueue_legacy,
    enqueue_unified,
    path_for,
    sync_jobs,
)
from rollout_bench.tenants import SyntheticTenant

CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, psycopg.OperationalError, OSError,
                     asyncio.TimeoutError)


class SteadyLoad:
    def __init__(self, database_url: str, redis_url: str, prefix: str, tenants: Sequence[SyntheticTenant],
                 routing: Callable[[], TenantMigration], interval_s: float = 0.5) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.prefix = prefix
        self.tenants = list(tenants)
        self.routing = routing
        self.interval_s = interval_s
        self.jobs: list[dict[str, Any]] = []
        self.refusals: list[tuple[float, str]] = []  # (time, reason): the server could not be reached
        self.errors: list[str] = []  # anything else: a bug, never a measurement
        self.close_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-load", daemon=True)

    def __enter__(self) -> SteadyLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        queue = SyncJobProducer(self.redis_url, self.prefix)
        index = 0
        try:
            while not self._stop.is_set():
                tenant = self.tenants[index % len(self.tenants)]
                jobs = sync_jobs(tenant.tenant_id, tenant.data_source_id, f"drill-{index:05d}",
                                 datetime.now(timezone.utc).isoformat())
                routed_at = time.time()  # before the routing is read: a job routed after a switch is stamped after it
                path = path_for(self.routing(), tenant.tenant_id)
                try:
                    if path == "unified":
                        await asyncio.wait_for(enqueue_unified(queue, jobs), 5)
                    else:
                        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
                            enqueue_legacy(conn, jobs)
                    self.jobs += [{"job_key": j.job_key, "path": path, "at": time.time(), "routed_at": routed_at}
                                  for j in jobs]
                except CONNECTION_ERRORS as exc:  # the server is down: the arrival is refused, and counted
                    self.refusals.append((time.time(), type(exc).__name__))
                except Exception as exc:  # noqa: BLE001 - recorded and failing the drill, never a refusal
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                index += 1
                await asyncio.sleep(self.interval_s)
        finally:
            try:
                await asyncio.wait_for(queue.close(), 5)
            except CONNECTION_ERRORS as exc:  # closing a queue whose Redis is gone: noted in the result
                self.close_error = f"{type(exc).__name__}: {exc}"
