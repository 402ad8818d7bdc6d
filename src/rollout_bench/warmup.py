"""Warm-up before measuring (as pyperf does): one sync per path in use, run to completion,
so process start-up (connections, consumers, first queries) is not measured as latency.
Warm-up syncs carry sync ids starting with `warmup-` and are left out of every figure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime, timezone

import psycopg
from psycopg.types.json import Jsonb

from msp_pipeline.jobs import SyncJobData
from msp_pipeline.migration import TenantMigration
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.subjects import sync_action
from msp_pipeline.unified.queue import PipelineQueue

from .errors import InfrastructureError
from .sqlfiles import load
from .tenants import SyntheticTenant

WARMUP_PREFIX = "warmup-"


def _jobs(tenant: SyntheticTenant, sync_id: str) -> list[SyncJobData]:
    return [SyncJobData(tenant.tenant_id, tenant.data_source_id, t, sync_id) for t in ENTITY_TYPES]


def warm_up(tenants: Sequence[SyntheticTenant], routing: TenantMigration, database_url: str, redis_url: str,
            prefix: str, timeout_s: float) -> float:
    """Runs the warm-up syncs; returns how long they took."""
    started = time.monotonic()
    new = next((t for t in tenants if routing.should_use_bullmq(t.tenant_id)), None)
    old = next((t for t in tenants if not routing.should_use_bullmq(t.tenant_id)), None)
    keys: list[str] = []
    if new:
        jobs = _jobs(new, f"{WARMUP_PREFIX}unified")

        async def add() -> None:
            queue = PipelineQueue(redis_url, prefix)
            try:
                for job in jobs:
                    await queue.add_sync_job(job)
            finally:
                await queue.close()

        asyncio.run(add())
        keys += [j.job_key for j in jobs]
    with psycopg.connect(database_url, autocommit=True) as conn:
        if old:
            jobs = _jobs(old, f"{WARMUP_PREFIX}legacy")
            for job in jobs:
                conn.execute(load("loadtests/insert_scheduled_job"), {
                    "tenant_id": job.tenantId, "data_source_id": job.dataSourceId,
                    "action": sync_action(job.entityType), "payload": Jsonb(job.to_dict()),
                    "priority": job.priority, "scheduled_at": datetime.now(timezone.utc)})
            keys += [j.job_key for j in jobs]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = conn.execute(load("collect/completed_keys"), (keys,)).fetchone()
            if done and done[0] >= len(keys):
                return time.monotonic() - started
            time.sleep(0.2)
    raise InfrastructureError(f"the pipeline did not finish its warm-up syncs within {timeout_s:g} s")
