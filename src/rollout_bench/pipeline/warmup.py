"""Warm-up before measuring (as pyperf does): one sync per path in use, run to completion,
so process start-up (connections, consumers, first queries) is not measured as latency.
Warm-up syncs carry sync ids starting with `warmup-` and are left out of every figure."""

from __future__ import annotations

import time
from collections.abc import Sequence

import psycopg

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.migration import TenantMigration
from rollout_bench.errors import InfrastructureError
from rollout_bench.pipeline.wire import WARMUP_PREFIX, enqueue_legacy, enqueue_unified_once, sync_jobs
from rollout_bench.sql import load
from rollout_bench.tenants import SyntheticTenant


def _jobs(tenant: SyntheticTenant, sync_id: str) -> list[SyncJobData]:
    return sync_jobs(tenant.tenant_id, tenant.data_source_id, sync_id)


def warm_up(tenants: Sequence[SyntheticTenant], routing: TenantMigration, database_url: str, redis_url: str,
            prefix: str, timeout_s: float) -> float:
    """Runs the warm-up syncs; returns how long they took."""
    started = time.monotonic()
    new = next((t for t in tenants if routing.should_use_bullmq(t.tenant_id)), None)
    old = next((t for t in tenants if not routing.should_use_bullmq(t.tenant_id)), None)
    keys: list[str] = []
    if new:
        jobs = _jobs(new, f"{WARMUP_PREFIX}unified")
        enqueue_unified_once(redis_url, prefix, jobs)
        keys += [j.job_key for j in jobs]
    with psycopg.connect(database_url, autocommit=True) as conn:
        if old:
            jobs = _jobs(old, f"{WARMUP_PREFIX}legacy")
            enqueue_legacy(conn, jobs)
            keys += [j.job_key for j in jobs]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = conn.execute(load("collect/completed_keys"), (keys,)).fetchone()
            if done and done[0] >= len(keys):
                return time.monotonic() - started
            time.sleep(0.2)
    raise InfrastructureError(f"the pipeline did not finish its warm-up syncs within {timeout_s:g} s")
