"""The one place the harness touches the pipeline's queues: it enqueues sync jobs on the
path routing chooses (a BullMQ job, or a due `scheduled_jobs` row for the legacy poller),
reads each path's queue depth, and names the warm-up syncs every figure leaves out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Literal

import psycopg
import redis
from psycopg.types.json import Jsonb

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.producer import SyncJobProducer, bullmq_depth
from msp_pipeline.contract.subjects import SYNC_JOB_NAME, sync_action
from msp_pipeline.migration import TenantMigration
from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.sql import load

Path = Literal["unified", "legacy"]
PATHS: tuple[Path, Path] = ("unified", "legacy")
WARMUP_PREFIX = "warmup-"
WARMUP_PATTERN = f"{WARMUP_PREFIX}%"  # the SQL LIKE pattern collect/*.sql receive as %(warmup)s


def sync_jobs(tenant_id: str, data_source_id: str, sync_id: str, intended_at: str | None = None) -> list[SyncJobData]:
    """One tenant sync: a job per entity type."""
    return [SyncJobData(tenant_id, data_source_id, t, sync_id, intendedAt=intended_at) for t in ENTITY_TYPES]


def path_for(routing: TenantMigration, tenant_id: str) -> Path:
    return "unified" if routing.should_use_bullmq(tenant_id) else "legacy"


async def enqueue_unified(producer: SyncJobProducer, jobs: Sequence[SyncJobData]) -> None:
    """The jobs in one round trip: BullMQ's bulk add (one MULTI/EXEC of the add script each job
    would run alone), each with the id and options the producer gives it."""
    await producer.queue.addBulk([{"name": SYNC_JOB_NAME, "data": job.to_dict(), "opts": producer.job_options(job)}
                                  for job in jobs])


def enqueue_unified_once(redis_url: str, prefix: str, jobs: Sequence[SyncJobData]) -> None:
    """A producer for one batch: opened, the jobs added, closed (warm-up, settle, drills)."""
    async def add() -> None:
        producer = SyncJobProducer(redis_url, prefix)
        try:
            await enqueue_unified(producer, jobs)
        finally:
            await producer.close()

    asyncio.run(add())


def enqueue_legacy(conn: psycopg.Connection[Any], jobs: Sequence[SyncJobData], scheduled_at: datetime | None = None) -> None:
    """Due rows in scheduled_jobs (the legacy path's wire contract), due at `scheduled_at`."""
    due = scheduled_at or datetime.now(timezone.utc)
    rows = [{"tenant_id": job.tenantId, "data_source_id": job.dataSourceId, "action": sync_action(job.entityType),
             "payload": Jsonb(job.to_dict()), "priority": job.priority, "scheduled_at": due} for job in jobs]
    with conn.cursor() as cur:
        cur.executemany(load("loadtests/insert_scheduled_job"), rows)


def unified_depth(client: redis.Redis, prefix: str) -> int:
    return bullmq_depth(client, prefix)


def legacy_depth(conn: psycopg.Connection[Any]) -> int:
    """Due legacy jobs not yet claimed."""
    row = conn.execute(load("collect/legacy_backlog")).fetchone()
    return int(row[0]) if row else 0
