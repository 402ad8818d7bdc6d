"""A steady background load for drills: one tenant sync (five jobs) every `interval_s`,
on the path the current routing chooses, each job recorded; an enqueue that fails (the
server is down) is counted as refused, never silently dropped."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import psycopg

from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.migration import TenantMigration
from rollout_bench.pipeline.wire import (
    enqueue_legacy,
    enqueue_unified,
    path_for,
    sync_jobs,
)
from rollout_bench.tenants import SyntheticTenant


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
        self.refused = 0
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
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                while not self._stop.is_set():
                    tenant = self.tenants[index % len(self.tenants)]
                    jobs = sync_jobs(tenant.tenant_id, tenant.data_source_id, f"drill-{index:05d}",
                                     datetime.now(timezone.utc).isoformat())
                    path = path_for(self.routing(), tenant.tenant_id)
                    try:
                        if path == "unified":
                            await asyncio.wait_for(enqueue_unified(queue, jobs), 5)
                        else:
                            enqueue_legacy(conn, jobs)
                        self.jobs += [{"job_key": j.job_key, "path": path, "at": time.time()} for j in jobs]
                    except Exception:  # the server is down: the arrival is refused, and counted
                        self.refused += 1
                    index += 1
                    await asyncio.sleep(self.interval_s)
        finally:
            try:
                await asyncio.wait_for(queue.close(), 5)
            except Exception as exc:  # closing a queue whose Redis is gone: noted in the result
                self.close_error = f"{type(exc).__name__}: {exc}"
