"""The legacy scheduler (the `scheduler` role): polls scheduled_jobs every
LEGACY_POLL_INTERVAL_S (60 s in production) and runs what is due, within each tenant's
concurrency limit. Failures retry after 300 s; after attempts_max the job is `broken`.

A Postgres outage (a terminated backend, a restart) never ends the role: a failed poll is
logged and the next poll tries again; a job whose connection died is recorded as failed
goes back to pending (attempt not counted) on a fresh connection, retried until Postgres
answers, so no claimed job stays `running`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from msp_pipeline.contract.jobs import LEGACY_RETRY_DELAY_S, JobError, SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.contract.subjects import sync_action
from msp_pipeline.db import Db
from msp_pipeline.job_runs import record_finish, record_start
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import DB_OUTAGE_ERRORS, db_session, open_pool

HandleJob = Callable[[SyncJobData], Awaitable[SyncJobData | None]]
PATH = "legacy"
POOL_SIZE = 20  # connections for jobs in flight without a global cap (more wait for one)
OUTAGE_RETRY_S = 1.0


class LegacyScheduler:
    def __init__(self, settings: Settings, metrics: Metrics, routing: Any, handle_job: HandleJob, *,
                 retry_delay_s: float = LEGACY_RETRY_DELAY_S, max_in_flight: int | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.routing = routing
        self.handle_job = handle_job
        self.retry_delay_s = retry_delay_s
        # None: the settings' cap (LEGACY_MAX_IN_FLIGHT, 0 = no global cap: per-tenant limits only)
        cap = settings.legacy_max_in_flight if max_in_flight is None else max_in_flight
        self.max_in_flight: int | None = cap or None
        self._pool: AsyncConnectionPool | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._run_ids: dict[int, int] = {}  # scheduled job id -> its open job_runs row

    async def run(self, stop: asyncio.Event) -> None:
        self._pool = await open_pool(self.settings.database_url, max_size=(self.max_in_flight or POOL_SIZE) + 2)
        log("LegacyScheduler", "start", "polling scheduled_jobs", poll_interval_s=self.settings.legacy_poll_interval_s)
        try:
            while not stop.is_set():
                try:
                    await self.poll_once()
                except DB_OUTAGE_ERRORS as exc:  # Postgres away: the pool reconnects, the next poll retries
                    self._count_outage("poll", exc)
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.legacy_poll_interval_s)
                except asyncio.TimeoutError:
                    pass
            if self._in_flight:
                await asyncio.gather(*self._in_flight)
        finally:
            await self._pool.close()

    async def poll_once(self) -> int:
        """Claims every due job within each tenant's concurrency limit (and the global cap, if
        one is set) and starts it; returns how many."""
        assert self._pool is not None
        free = None if self.max_in_flight is None else self.max_in_flight - len(self._in_flight)
        async with db_session(self._pool, self.metrics) as db:
            self.metrics.queue_depth.labels(PATH).set((await db.fetch("legacy/scheduler/due_backlog"))[0][0])
            if free is not None and free <= 0:
                return 0
            claimed = await db.fetch("legacy/scheduler/claim_due_jobs", {"limit": free})
        for row in claimed:
            task = asyncio.create_task(self._run_job(*row))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(claimed)

    async def wait_idle(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight)

    def _count_outage(self, step: str, exc: BaseException) -> None:
        self.metrics.errors.labels("LegacyScheduler", type(exc).__name__).inc()
        log("LegacyScheduler", "db-unavailable", f"{step}: {type(exc).__name__}: {exc}", level="error")

    async def _run_job(self, job_id: int, tenant_id: str, payload: Any, attempt: int, attempts_max: int,
                       scheduled_at: datetime, priority: int) -> None:
        try:
            await self._run_claimed(job_id, tenant_id, payload, attempt, scheduled_at)
        except DB_OUTAGE_ERRORS as exc:  # the job's own connection died: record the failure on a new one
            self._count_outage(f"job {job_id}", exc)
            await self._record_outage_failure(job_id, exc)

    async def _record_outage_failure(self, job_id: int, exc: BaseException) -> None:
        """Puts the claimed job back to pending (its attempt not counted) and closes its
        job_runs row, trying until Postgres answers."""
        assert self._pool is not None
        error = f"{type(exc).__name__}: {exc}"[:2000]
        while True:
            try:
                async with db_session(self._pool, self.metrics) as db:
                    await db.execute("jobs/requeue_after_outage", {"id": job_id, "error": error})
                    run_id = self._run_ids.pop(job_id, None)
                    if run_id is not None:
                        await record_finish(db, run_id, error=error)
                self.metrics.jobs.labels(PATH, "postponed").inc()
                return
            except DB_OUTAGE_ERRORS as again:
                self._count_outage(f"recording job {job_id}", again)
                await asyncio.sleep(OUTAGE_RETRY_S)

    async def _run_claimed(self, job_id: int, tenant_id: str, payload: Any, attempt: int,
                           scheduled_at: datetime) -> None:
        assert self._pool is not None
        async with db_session(self._pool, self.metrics) as db:
            try:
                job = SyncJobData.from_dict(payload)
            except JobError as exc:
                await db.execute("legacy/scheduler/break_job", {"id": job_id, "error": str(exc)})
                self.metrics.dead_letters.labels("scheduled_jobs", "bad payload").inc()
                log("LegacyScheduler", "bad-job", str(exc), level="warn", jobId=job_id, tenantId=tenant_id)
                return
            started = datetime.now(timezone.utc)
            self.metrics.queue_latency.labels(PATH).observe(
                max(0.0, (started - (job.intended_at or scheduled_at)).total_seconds()))
            run_id = await record_start(db, job, path=PATH, attempt=attempt, enqueued_at=scheduled_at)
            self._run_ids[job_id] = run_id
            try:
                next_page = await self.handle_job(job)
            except DB_OUTAGE_ERRORS:
                raise  # recorded by _run_job on a fresh connection
            except Exception as exc:  # the job failed: retry later or mark broken, never lose it
                async with db.transaction():
                    await self._fail(db, job_id, run_id, exc)
                self._run_ids.pop(job_id, None)
                return
            # One transaction: a backend killed between the job's row and its job_runs row must
            # leave neither written (the job goes back to pending), never a completed job whose
            # run is recorded as failed.
            async with db.transaction():
                await db.execute("legacy/scheduler/complete_job", {"id": job_id})
                await record_finish(db, run_id)
                if next_page is not None:
                    await db.execute("legacy/scheduler/insert_job", {
                        "tenant_id": next_page.tenantId, "data_source_id": next_page.dataSourceId,
                        "action": sync_action(next_page.entityType), "payload": Jsonb(next_page.to_dict()),
                        "priority": next_page.priority})
            self._run_ids.pop(job_id, None)
            self.metrics.jobs.labels(PATH, "completed").inc()

    async def _fail(self, db: Db, job_id: int, run_id: int, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        status = (await db.fetch("legacy/scheduler/fail_job", {"id": job_id, "error": error[:2000],
                                                               "retry_after_s": self.retry_delay_s}))[0][0]
        await record_finish(db, run_id, error=error[:2000])
        self.metrics.jobs.labels(PATH, status).inc()
        self.metrics.errors.labels("LegacyScheduler", type(exc).__name__).inc()
        log("LegacyScheduler", "job-failed", error, level="error", jobId=job_id, status=status)
