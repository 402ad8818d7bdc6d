"""BullMQ queue and worker of the new path, end to end on real Redis and Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.metrics import Metrics
from msp_pipeline.migration import TenantMigration
from msp_pipeline.pool import open_pool
from msp_pipeline.unified.queue import PipelineQueue
from msp_pipeline.unified.worker import SyncWorker
from tests.integration.test_unified_context import ensure_data_source
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.integration
BULLMQ_ALL = TenantMigration(bullmq_enabled=True)


def job(sync_id: str, tenant: str = "t1", entity_type: str = "identities", **kw: Any) -> SyncJobData:
    return SyncJobData(tenant, f"{tenant}-m365", entity_type, sync_id, **kw)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def db_rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


async def run_worker(env: dict[str, str], routing: TenantMigration,
                     handle_job: Callable[[SyncJobData], Awaitable[SyncJobData | None]],
                     scenario: Callable[[PipelineQueue, Metrics], Awaitable[None]]) -> Metrics:
    """Runs a SyncWorker while `scenario` drives the queue; stops it gracefully after."""
    settings = Settings.from_env({**env, "WORKER_CONCURRENCY": "4", "BULLMQ_PREFIX": "bulltest"})
    metrics = Metrics()
    stop = asyncio.Event()
    worker = SyncWorker(settings, metrics, routing, handle_job, monitor_interval_s=0.2)
    task = asyncio.create_task(worker.run(stop))
    queue = PipelineQueue(settings.redis_url, settings.bullmq_prefix, backoff_delay_ms=20)
    try:
        await scenario(queue, metrics)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await queue.close()
    return metrics


def test_jobs_run_with_job_runs_and_next_pages(pipeline_env: dict[str, str], database_url: str) -> None:
    calls: list[str] = []

    async def handle(data: SyncJobData) -> SyncJobData | None:
        calls.append(data.job_key)
        more = data.entityType == "identities" and data.batchNumber < 2
        return data.next_page(f"cursor-{data.batchNumber + 1}") if more else None

    async def scenario(queue: PipelineQueue, metrics: Metrics) -> None:
        assert await queue.add_sync_job(job("s1")) == "s1:identities:0"
        assert await queue.add_sync_job(job("s1")) == "s1:identities:0"  # same key: stored once
        await queue.add_sync_job(job("s2", entity_type="groups"), delay_ms=300)
        await async_wait_until(lambda: _async(len(calls) == 4), timeout=10, what="4 jobs run")
        await async_wait_until(lambda: _completed(queue, 4), timeout=10, what="4 jobs completed")
        await async_wait_until(lambda: _async(sample(metrics, "pipeline_redis_up") == 1), timeout=5,
                               what="redis_up")

    metrics = asyncio.run(run_worker(pipeline_env, BULLMQ_ALL, handle, scenario))
    assert sorted(calls) == ["s1:identities:0", "s1:identities:1", "s1:identities:2", "s2:groups:0"]
    runs = db_rows(database_url, "SELECT job_key, path, attempt, status, started_at - enqueued_at "
                                 "FROM job_runs ORDER BY job_key")
    assert [r[:4] for r in runs] == [(k, "unified", 1, "completed") for k in sorted(calls)]
    assert all(timedelta(0) <= r[4] < timedelta(seconds=5) for r in runs)
    delayed = db_rows(database_url, "SELECT enqueued_at - (SELECT min(enqueued_at) FROM job_runs) FROM job_runs "
                                    "WHERE job_key = 's2:groups:0'")[0][0]
    assert delayed >= timedelta(milliseconds=250)  # due = added + delay, not added
    assert sample(metrics, "pipeline_jobs_total", path="unified", state="completed") == 4
    assert sample(metrics, "pipeline_queue_latency_seconds_count", path="unified") == 4


def test_failing_job_retried_then_failed(pipeline_env: dict[str, str], database_url: str) -> None:
    async def handle(data: SyncJobData) -> SyncJobData | None:
        raise RuntimeError(f"graph said no to {data.syncId}")

    async def scenario(queue: PipelineQueue, metrics: Metrics) -> None:
        await queue.add_sync_job(job("bad"))
        await async_wait_until(lambda: _failed_reason(queue, "bad:identities:0"), timeout=10, what="job failed")

    metrics = asyncio.run(run_worker(pipeline_env, BULLMQ_ALL, handle, scenario))
    runs = db_rows(database_url, "SELECT attempt, status, error FROM job_runs ORDER BY attempt")
    assert [(a, s) for a, s, _ in runs] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert "graph said no to bad" in runs[0][2]
    assert sample(metrics, "pipeline_jobs_total", path="unified", state="retried") == 2
    assert sample(metrics, "pipeline_jobs_total", path="unified", state="failed") == 1


def test_bad_payload_fails_visibly_and_counts_dead_letter(pipeline_env: dict[str, str], database_url: str) -> None:
    calls: list[SyncJobData] = []

    async def handle(data: SyncJobData) -> SyncJobData | None:
        calls.append(data)
        return None

    async def scenario(queue: PipelineQueue, metrics: Metrics) -> None:
        await queue.queue.add("sync", {"tenantId": "t1", "entityType": "printers"}, {"jobId": "junk", "attempts": 3})
        reason = await async_wait_until(lambda: _failed_reason(queue, "junk"), timeout=10, what="junk failed")
        assert "invalid job data" in reason and "dataSourceId" in reason

    metrics = asyncio.run(run_worker(pipeline_env, BULLMQ_ALL, handle, scenario))
    assert calls == [] and db_rows(database_url, "SELECT count(*) FROM job_runs") == [(0,)]
    assert sample(metrics, "pipeline_dead_letters_total", source="jobs", reason="invalid job data") == 1
    assert sample(metrics, "pipeline_jobs_total", path="unified", state="failed") == 1


def test_tenant_routed_to_legacy_is_handed_to_scheduled_jobs(pipeline_env: dict[str, str], database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_data_source(conn, "t-legacy", "t-legacy-m365")
    calls: list[SyncJobData] = []

    async def handle(data: SyncJobData) -> SyncJobData | None:
        calls.append(data)
        return None

    async def scenario(queue: PipelineQueue, metrics: Metrics) -> None:
        await queue.add_sync_job(job("r1", tenant="t-legacy", batchNumber=2, cursor="c2", priority=15))
        await queue.add_sync_job(job("r2", tenant="t-new"))
        await async_wait_until(lambda: _completed(queue, 2), timeout=10, what="both jobs done")

    routing = TenantMigration(bullmq_enabled=True, bullmq_tenants=frozenset({"t-new"}))
    metrics = asyncio.run(run_worker(pipeline_env, routing, handle, scenario))
    assert [c.tenantId for c in calls] == ["t-new"]
    handed = db_rows(database_url, "SELECT tenant_id, action, status, priority, payload FROM scheduled_jobs")
    assert len(handed) == 1
    assert handed[0][:4] == ("t-legacy", "microsoft-365.sync.identities", "pending", 15)
    assert SyncJobData.from_dict(handed[0][4]) == job("r1", tenant="t-legacy", batchNumber=2, cursor="c2", priority=15)
    assert sample(metrics, "pipeline_jobs_total", path="unified", state="handed_over") == 1


def test_repeatable_jobs_per_routed_source_and_type(pipeline_env: dict[str, str], database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for tenant in ("t-a", "t-b"):
            ensure_data_source(conn, tenant, f"{tenant}-m365")
        conn.execute("INSERT INTO data_sources (id, tenant_id, integration_id, status) "
                     "VALUES ('t-a-off', 't-a', 'microsoft-365', 'inactive')")

    async def scenario() -> None:
        pool = await open_pool(database_url, max_size=2)
        queue = PipelineQueue(pipeline_env["REDIS_URL"], "bulltest")
        try:
            only_a = TenantMigration(bullmq_enabled=True, bullmq_tenants=frozenset({"t-a"}))
            assert await queue.ensure_repeatable_jobs(pool, only_a) == {"upserted": 5, "removed": 0}
            schedulers = await queue.queue.getJobSchedulers(0, -1, True)
            assert sorted(s["key"] for s in schedulers) == [
                f"sync:t-a-m365:{t}" for t in ("groups", "identities", "licenses", "policies", "roles")]
            assert {s["pattern"] for s in schedulers} == {"0 * * * *"}
            assert {s["template"]["data"]["tenantId"] for s in schedulers} == {"t-a"}
            assert (await queue.counts())["delayed"] == 5  # each scheduler's next iteration
            assert await queue.ensure_repeatable_jobs(pool, only_a) == {"upserted": 5, "removed": 0}
            assert len(await queue.queue.getJobSchedulers()) == 5
            rollback = TenantMigration(bullmq_enabled=False)
            assert await queue.ensure_repeatable_jobs(pool, rollback) == {"upserted": 0, "removed": 5}
            assert await queue.queue.getJobSchedulers() == []
        finally:
            await queue.close()
            await pool.close()

    asyncio.run(scenario())


async def _async(value: Any) -> Any:
    return value


async def _completed(queue: PipelineQueue, n: int) -> bool:
    return (await queue.counts())["completed"] >= n


async def _failed_reason(queue: PipelineQueue, job_id: str) -> str | None:
    found = await queue.queue.getJob(job_id)
    if found is None or not await found.isFailed():
        return None
    return found.failedReason
