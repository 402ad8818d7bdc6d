"""After the load: one more sync of every tenant a mutation changed, once mutations have
stopped, so each tenant's final alerts reflect every change and can be judged against the
plan with the mutations replayed. These syncs are ordinary jobs, counted in the job totals
and the accuracy, but enqueued as one burst off the load's schedule, so their latency is
not the offered load's: it is kept out of the job-latency figures (`is_settle`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import psycopg

from msp_pipeline.migration import TenantMigration
from rollout_bench.pipeline.wire import enqueue_legacy, enqueue_unified_once, path_for, sync_jobs
from rollout_bench.tenants import SyntheticTenant

SETTLE_MARK = "-settle-"


def is_settle(job_key: str) -> bool:
    return SETTLE_MARK in job_key.split(":", 1)[0]


def settle_syncs(tenants: Sequence[SyntheticTenant], routing: TenantMigration, database_url: str, redis_url: str,
                 prefix: str) -> list[dict[str, Any]]:
    """Enqueues the syncs; returns them as the load records its jobs (job_key, path, tenant_id, intended_at)."""
    now = datetime.now(timezone.utc)
    planned = [(t, path_for(routing, t.tenant_id),
                sync_jobs(t.tenant_id, t.data_source_id, f"{prefix}{SETTLE_MARK}{i:04d}", now.isoformat()))
               for i, t in enumerate(tenants)]
    unified = [job for _, path, jobs in planned if path == "unified" for job in jobs]
    if unified:
        enqueue_unified_once(redis_url, prefix, unified)
    legacy = [job for _, path, jobs in planned if path == "legacy" for job in jobs]
    if legacy:
        with psycopg.connect(database_url, autocommit=True) as conn:
            enqueue_legacy(conn, legacy, now)
    return [{"job_key": job.job_key, "path": path, "tenant_id": t.tenant_id, "intended_at": job.intendedAt or ""}
            for t, path, jobs in planned for job in jobs]
