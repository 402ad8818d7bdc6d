"""The BullMQ worker of the new path: runs sync jobs from `pipeline-jobs`.

For each job: parse `SyncJobData` (a bad payload fails the job at once with the reason and
is counted as a dead letter), hand it over to the legacy scheduler when its tenant is no
longer routed to BullMQ (rollback: nothing is lost), else record a job_runs row, observe
the queue latency, run `handle_job` and queue the next page it returns.

The Worker and the producer Queue use separate Redis connections. Redis outages are
retried by the Worker itself (`run_retry_delay_ms`); a monitor keeps pipeline_redis_up and
pipeline_queue_depth{path="unified"} current.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from bullmq import DelayedError, Job, UnrecoverableError
from bullmq.backoffs import Backoffs
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from msp_pipeline import job_runs
from msp_pipeline.contract.jobs import ATTEMPTS, JobError, SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.contract.subjects import QUEUE_NAME, sync_action
from msp_pipeline.db import Db
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import DB_OUTAGE_ERRORS, db_session, open_pool
from msp_pipeline.unified.guarded_worker import GuardedWorker, worker_connection
from msp_pipeline.unified.queue import PipelineQueue, Routing
from msp_pipeline.unified.redis_health import RedisMonitor

PATH = "unified"
OUTAGE_RETRY_MS = 2_000  # a job that met a Postgres outage runs again this much later, same attempt
HandleJob = Callable[[SyncJobData], Awaitable[SyncJobData | None]]


def _from_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)


class SyncWorker:
    def __init__(self, settings: Settings, metrics: Metrics, routing: Routing, handle_job: HandleJob, *,
                 monitor_interval_s: float = 2.0, run_retry_delay_ms: int = 1_000,
                 ensure_schedulers: bool = False) -> None:
        self.settings = settings
        self.metrics = metrics
        self.routing = routing
        self.handle_job = handle_job
        self.monitor_interval_s = monitor_interval_s
        self.run_retry_delay_ms = run_retry_delay_ms
        self.ensure_schedulers = ensure_schedulers  # upsert the repeatable jobs at start (idempotent)
        self._pool: AsyncConnectionPool | None = None
        self._queue: PipelineQueue | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Processes jobs until `stop` is set; then lets in-flight jobs finish and returns."""
        s = self.settings
        self._pool = await open_pool(s.database_url, max_size=s.worker_concurrency + 2)
        self._queue = PipelineQueue(s.redis_url, s.bullmq_prefix)
        try:
            if self.ensure_schedulers:
                await self._queue.ensure_repeatable_jobs(self._pool, self.routing)
            await self._work(stop)
        finally:
            await self._queue.close()
            await self._pool.close()
            log("SyncWorker", "stop", "worker closed")

    async def _work(self, stop: asyncio.Event) -> None:
        assert self._queue is not None
        s = self.settings
        worker = GuardedWorker(QUEUE_NAME, self._process, {
            "connection": worker_connection(s.redis_url), "prefix": s.bullmq_prefix,
            "concurrency": s.worker_concurrency,
            "autorun": False, "runRetryDelay": self.run_retry_delay_ms, "name": "sync-worker",
        }, max_data_bytes=s.max_message_bytes, on_bad_job=self._on_bad_job)
        worker.on("error", self._on_worker_error)
        worker.on("failed", self._on_job_failed)
        monitor = RedisMonitor(self._queue, self.metrics, PATH, self.monitor_interval_s)
        worker_task = asyncio.create_task(worker.run(), name="bullmq-worker")
        monitor_task = asyncio.create_task(monitor.run(stop), name="queue-monitor")
        stop_task = asyncio.create_task(stop.wait(), name="stop")
        log("SyncWorker", "start", f"worker on {QUEUE_NAME}", concurrency=s.worker_concurrency)
        try:
            await asyncio.wait({worker_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            if worker_task.done() and not stop.is_set():
                raise RuntimeError(f"the BullMQ worker loop ended by itself: {worker_task.exception()!r}")
        finally:
            stop_task.cancel()
            await worker.close()  # waits for in-flight jobs
            if not worker_task.done():
                await worker_task
            monitor_task.cancel()
            await asyncio.gather(monitor_task, return_exceptions=True)

    def _on_worker_error(self, error: Exception, *_: Any) -> None:
        log("SyncWorker", "worker-error", f"{type(error).__name__}: {error}", level="error")
        self.metrics.errors.labels("SyncWorker", type(error).__name__).inc()

    def _on_bad_job(self, job: Job, reason: str) -> None:
        """A job whose stored fields cannot be read: bullmq moves it to failed with `reason`."""
        self.metrics.dead_letters.labels("jobs", reason.split(":")[0][:60]).inc()
        log("SyncWorker", "dead-letter", f"job {job.id}: {reason}"[:2000], level="warn", jobId=job.id)

    def _on_job_failed(self, job: Job, error: Exception) -> None:
        """Every failed attempt, whatever failed: counted as retried, or failed when it was
        the last attempt (or unrecoverable, as bad job data is)."""
        final = isinstance(error, UnrecoverableError) or job.attemptsMade >= int(job.opts.get("attempts") or ATTEMPTS)
        self.metrics.jobs.labels(PATH, "failed" if final else "retried").inc()
        data = job.data if isinstance(job.data, dict) else {}
        log("SyncWorker", "job-failed" if final else "job-retry", f"job {job.id} attempt {job.attemptsMade}: "
            f"{type(error).__name__}: {error}", level="error" if final else "warn", jobId=job.id,
            syncId=data.get("syncId"), tenantId=data.get("tenantId"), dataSourceId=data.get("dataSourceId"),
            attempt=job.attemptsMade, final=final)

    async def _process(self, job: Job, token: str) -> dict[str, Any]:
        """A Postgres outage is not the job's fault: the job goes back to `delayed` without
        spending an attempt (bullmq's moveToDelayed + DelayedError) and runs again once the
        pool has reconnected, so an outage longer than the backoff loses nothing."""
        try:
            return await self._process_attempt(job)
        except DB_OUTAGE_ERRORS as exc:
            self.metrics.errors.labels("SyncWorker", type(exc).__name__).inc()
            self.metrics.jobs.labels(PATH, "postponed").inc()
            log("SyncWorker", "db-unavailable", f"job {job.id} postponed {OUTAGE_RETRY_MS} ms: "
                f"{type(exc).__name__}: {exc}", level="warn", jobId=job.id)
            await job.moveToDelayed(int(datetime.now(timezone.utc).timestamp() * 1000) + OUTAGE_RETRY_MS, token)
            raise DelayedError() from None

    async def _process_attempt(self, job: Job) -> dict[str, Any]:
        assert self._pool is not None and self._queue is not None
        try:
            data = SyncJobData.from_dict(job.data)  # GuardedWorker already refused unreadable JSON
        except JobError as exc:
            self.metrics.dead_letters.labels("jobs", "invalid job data").inc()
            log("SyncWorker", "dead-letter", f"job {job.id}: {exc}", level="warn", jobId=job.id)
            raise UnrecoverableError(f"invalid job data: {exc}") from None
        if job.repeatJobKey:  # an iteration of a job scheduler: its own sync id
            data = replace(data, syncId=str(job.id).removeprefix("repeat:"))
        if not self.routing.should_use_bullmq(data.tenantId):
            await self._hand_over(data)
            self.metrics.jobs.labels(PATH, "handed_over").inc()
            return {"handedOver": True}
        attempt = job.attemptsMade + 1
        async with db_session(self._pool, self.metrics) as db:
            enqueued_at = await self._due_at(db, job, data, attempt)
            run_id = await job_runs.record_start(db, data, path=PATH, attempt=attempt, enqueued_at=enqueued_at)
        self.metrics.queue_latency.labels(PATH).observe(
            max(0.0, (datetime.now(timezone.utc) - enqueued_at).total_seconds()))
        try:
            next_job = await self.handle_job(data)
            if next_job is not None:
                await self._queue.add_sync_job(next_job)
        except DB_OUTAGE_ERRORS:
            raise  # postponed by _process, no attempt spent
        except Exception as exc:  # recorded here, counted and logged by _on_job_failed, retried by BullMQ
            async with db_session(self._pool, self.metrics) as db:
                await job_runs.record_finish(db, run_id, error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
        async with db_session(self._pool, self.metrics) as db:
            await job_runs.record_finish(db, run_id)
        self.metrics.jobs.labels(PATH, "completed").inc()
        return {"nextPage": next_job.job_key if next_job else None}

    async def _due_at(self, db: Db, job: Job, data: SyncJobData, attempt: int) -> datetime:
        """When the job became due: added + its delay (the stored option: BullMQ zeroes the
        `delay` field on promotion); a retry: the previous attempt's end + its backoff."""
        added_due = _from_ms(int(job.timestamp)) + timedelta(milliseconds=int(job.opts.get("delay") or 0))
        if attempt == 1:
            return added_due
        rows = await db.fetch("unified/previous_attempt_finished",
                              {"job_key": data.job_key, "tenant_id": data.tenantId})
        if not rows or rows[0][0] is None:
            return added_due
        backoff_ms = await Backoffs.calculate(job.opts.get("backoff"), attempt - 1, None, job, None)
        return max(added_due, rows[0][0] + timedelta(milliseconds=int(backoff_ms or 0)))

    async def _hand_over(self, data: SyncJobData) -> None:
        assert self._pool is not None
        async with db_session(self._pool, self.metrics) as db:
            inserted = await db.execute("unified/handover_scheduled_job", {
                "tenant_id": data.tenantId, "data_source_id": data.dataSourceId,
                "action": sync_action(data.entityType), "payload": Jsonb(data.to_dict()),
                "priority": data.priority, "scheduled_at": datetime.now(timezone.utc),
                "sync_id": data.syncId, "batch_number": str(data.batchNumber),
            })
        log("SyncWorker", "hand-over", f"{data.job_key} routed to legacy: handed to scheduled_jobs",
            syncId=data.syncId, tenantId=data.tenantId, dataSourceId=data.dataSourceId, inserted=inserted)
