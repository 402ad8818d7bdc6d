"""The legacy scheduler's rules against real Postgres: priority order, per-tenant limit,
retry then broken, bad payloads, next pages, and two schedulers never running one job twice."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.legacy import LegacyScheduler
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import open_pool
from rollout_bench.tenants import load_tenants

pytestmark = pytest.mark.integration


def _insert(conn: psycopg.Connection, tenant: str, priority: int, payload: dict | None = None, n: int = 1) -> None:
    for i in range(n):
        job = payload or SyncJobData(tenant, f"ds-{tenant}", "identities", f"s-{priority}-{i}").to_dict()
        conn.execute("INSERT INTO scheduled_jobs (tenant_id, data_source_id, action, payload, priority) "
                     "VALUES (%s, %s, 'microsoft-365.sync.identities', %s, %s)",
                     (tenant, f"ds-{tenant}", json.dumps(job), priority))


def _scheduler(env: dict[str, str], handle, **kwargs) -> LegacyScheduler:
    return LegacyScheduler(Settings.from_env(env), Metrics(), None, handle, **kwargs)


async def _poll(scheduler: LegacyScheduler, url: str) -> int:
    scheduler._pool = await open_pool(url, max_size=4)
    try:
        started = await scheduler.poll_once()
        await scheduler.wait_idle()
        return started
    finally:
        await scheduler._pool.close()


def test_priority_order_and_tenant_limit(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=1).tenant_ids[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE tenants SET concurrent_job_limit = 2")
        _insert(conn, tenant, 1)
        _insert(conn, tenant, 9)
        _insert(conn, tenant, 5)
    seen: list[str] = []

    async def handle(job: SyncJobData) -> None:
        seen.append(job.syncId)

    started = asyncio.run(_poll(_scheduler(pipeline_env, handle), database_url))
    assert started == 2
    assert sorted(seen) == ["s-5-0", "s-9-0"]
    with psycopg.connect(database_url) as conn:
        statuses = dict(conn.execute("SELECT priority, status FROM scheduled_jobs").fetchall())
        runs = conn.execute("SELECT count(*) FROM job_runs WHERE path = 'legacy' AND status = 'completed'").fetchone()
    assert statuses == {9: "completed", 5: "completed", 1: "pending"}
    assert runs == (2,)


def test_failure_retries_then_breaks(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=2).tenant_ids[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        _insert(conn, tenant, 5)

    async def handle(job: SyncJobData) -> None:
        raise RuntimeError("graph said 503")

    scheduler = _scheduler(pipeline_env, handle, retry_delay_s=0.0)
    statuses = []
    for _ in range(3):
        asyncio.run(_poll(scheduler, database_url))
        with psycopg.connect(database_url) as conn:
            statuses.append(conn.execute("SELECT status, attempts FROM scheduled_jobs").fetchone())
    assert statuses == [("failed", 1), ("failed", 2), ("broken", 3)]
    assert asyncio.run(_poll(scheduler, database_url)) == 0


def test_bad_payload_is_broken_and_counted(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=3).tenant_ids[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        _insert(conn, tenant, 5, payload={"tenantId": tenant, "entityType": "printers"})

    async def handle(job: SyncJobData) -> None:
        raise AssertionError("must not run")

    scheduler = _scheduler(pipeline_env, handle)
    asyncio.run(_poll(scheduler, database_url))
    with psycopg.connect(database_url) as conn:
        status, error = conn.execute("SELECT status, error FROM scheduled_jobs").fetchone()
    assert status == "broken" and "dataSourceId" in error
    assert scheduler.metrics.dead_letters.labels("scheduled_jobs", "bad payload")._value.get() == 1


def test_next_page_is_queued_and_two_schedulers_never_share_a_job(pipeline_env: dict[str, str],
                                                                   database_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=4).tenant_ids[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE tenants SET concurrent_job_limit = 50")
        _insert(conn, tenant, 5, n=20)
    runs: list[str] = []

    async def handle(job: SyncJobData) -> SyncJobData | None:
        runs.append(job.job_key)
        await asyncio.sleep(0.01)
        return job.next_page("cursor") if job.syncId == "s-5-0" and job.batchNumber == 0 else None

    async def both() -> None:
        await asyncio.gather(_poll(_scheduler(pipeline_env, handle), database_url),
                             _poll(_scheduler(pipeline_env, handle), database_url))

    asyncio.run(both())
    assert len(runs) == len(set(runs)) == 20
    with psycopg.connect(database_url) as conn:
        page = conn.execute("SELECT priority, payload->>'batchNumber' FROM scheduled_jobs "
                            "WHERE status = 'pending'").fetchall()
    assert page == [(15, "1")]


def test_one_poll_claims_every_due_job_within_each_tenants_limit(pipeline_env: dict[str, str],
                                                                 database_url: str) -> None:
    """The plan's rule: no global cap of 10 per poll (that capped legacy at 10 jobs a minute);
    each tenant's concurrent_job_limit (default 5) is the only limit unless LEGACY_MAX_IN_FLIGHT is set."""
    tenants = load_tenants(database_url, "small", 4, seed=2).tenant_ids
    with psycopg.connect(database_url, autocommit=True) as conn:
        for tenant in tenants:
            _insert(conn, tenant, 5, n=7)

    async def slow(job: SyncJobData) -> None:
        await asyncio.sleep(0.2)

    assert asyncio.run(_poll(_scheduler(pipeline_env, slow), database_url)) == 4 * 5
    capped = _scheduler({**pipeline_env, "LEGACY_MAX_IN_FLIGHT": "3"}, slow)
    assert capped.max_in_flight == 3
    assert asyncio.run(_poll(capped, database_url)) == 3
