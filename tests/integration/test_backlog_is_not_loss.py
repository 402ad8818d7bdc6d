"""Backlog is not loss: jobs still queued on their path when the drain ends are counted as
queued (per path), never as lost; only a job on no path is lost."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from rollout_bench.collect.backlog import queued_jobs
from rollout_bench.collect.records import job_totals
from rollout_bench.pipeline.wire import enqueue_legacy, enqueue_unified_once, sync_jobs
from rollout_bench.tenants import generate_tenants, write_tenants

pytestmark = pytest.mark.integration


def test_a_saturated_legacy_path_reports_backlog_and_loses_nothing(database_url: str, redis_url: str) -> None:
    prefix = "backlog-test"
    (tenant,) = generate_tenants("small", 1, seed=9)
    with psycopg.connect(database_url) as conn:
        write_tenants(conn, [tenant])
    legacy = [job for i in range(20) for job in sync_jobs(tenant.tenant_id, tenant.data_source_id, f"leg-{i}")]
    unified = sync_jobs(tenant.tenant_id, tenant.data_source_id, "uni-0")
    with psycopg.connect(database_url, autocommit=True) as conn:
        enqueue_legacy(conn, legacy, datetime.now(timezone.utc))  # no scheduler runs: they stay pending
    enqueue_unified_once(redis_url, prefix, unified)  # no worker runs: they stay waiting
    enqueued = [{"job_key": j.job_key, "path": "legacy", "tenant_id": tenant.tenant_id} for j in legacy]
    enqueued += [{"job_key": j.job_key, "path": "unified", "tenant_id": tenant.tenant_id} for j in unified]
    vanished = {"job_key": "never-enqueued:identities:0", "path": "unified", "tenant_id": tenant.tenant_id}
    with psycopg.connect(database_url, autocommit=True) as conn:
        totals = job_totals(conn, [*enqueued, vanished], lambda keys: queued_jobs(conn, redis_url, prefix, keys))
    assert totals.queued == len(legacy) + len(unified)
    assert totals.by_path["legacy"]["queued"] == len(legacy) and totals.by_path["legacy"]["lost"] == 0
    assert totals.by_path["unified"]["queued"] == len(unified)
    assert totals.lost == 1 and totals.lost_keys == ["never-enqueued:identities:0"]
