"""The load generator against the real servers: its bulk enqueue writes each BullMQ job
exactly as the producer's one-by-one add does; `measure_generator` reports what the real
Locust file fired (alone and with two processes), finds every recorded job in Redis and
deletes its keys; and a mixed run puts the new path's syncs in Redis and the legacy path's
as due scheduled_jobs rows at their intended times. (The speed goal is a benchmark:
benchmarks/test_generator.py.)"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import redis

from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.migration import TenantMigration
from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.load.generator import measure_generator
from rollout_bench.load.locust import run_load
from rollout_bench.pipeline.wire import enqueue_unified, path_for, sync_jobs
from rollout_bench.stack import StackUrls
from rollout_bench.tenants import generate_tenants, write_tenants

pytestmark = pytest.mark.integration


def test_the_bulk_enqueue_writes_each_job_as_the_producer_does(redis_url: str) -> None:
    jobs = sync_jobs("t-bulk", "ds-bulk", "sync-1", "2026-01-01T00:00:00+00:00")

    async def add_both() -> None:
        one_by_one, bulk = SyncJobProducer(redis_url, "one"), SyncJobProducer(redis_url, "bulk")
        try:
            for job in jobs:
                await one_by_one.add_sync_job(job)
            await enqueue_unified(bulk, jobs)
        finally:
            await one_by_one.close()
            await bulk.close()

    asyncio.run(add_both())
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for job in jobs:
            alone = client.hgetall(f"one:pipeline-jobs:{job.job_key}")
            batched = client.hgetall(f"bulk:pipeline-jobs:{job.job_key}")
            assert alone and alone.pop("timestamp") and batched.pop("timestamp")
            assert batched == alone, "same name, data, options (id, priority, attempts, backoff, removeOn*)"
        assert client.zrange("bulk:pipeline-jobs:prioritized", 0, -1, withscores=True) == \
            client.zrange("one:pipeline-jobs:prioritized", 0, -1, withscores=True)
    finally:
        client.close()


def _keys_left(redis_url: str, prefix: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    try:
        return [k.decode() for k in client.scan_iter(match=f"{prefix}:*", count=500)]
    finally:
        client.close()


@pytest.mark.parametrize("processes", [1, 2])
def test_measure_generator_reports_what_it_fired_and_cleans_up(stack_urls: StackUrls, processes: int) -> None:
    result = measure_generator(stack_urls, 25.0, 4.0, processes=processes)
    assert result.planned > 60 and result.fired == result.planned and result.dropped == 0
    assert result.jobs_recorded == 5 * result.fired == result.jobs_in_redis
    assert result.lateness_ms["count"] == result.fired
    assert result.fired_rate["jobs_per_s"] == pytest.approx(5 * result.planned / 4.0, rel=0.01)
    assert result.held is None and "too few to bound a p99" in result.reasons[0], "no verdict on ~100 arrivals"
    assert result.cpu["processes"]["locust"]["samples"] > 0
    assert _keys_left(stack_urls.redis_url, result.prefix) == []


def test_a_mixed_run_enqueues_each_path_on_its_own_wire(database_url: str, redis_url: str, nats_url: str,
                                                         tmp_path: Path) -> None:
    tenants = generate_tenants("small", 12, seed=3)  # 50 % by the plan's hash: 2 of these 12 on the new path
    flags = {"USE_BULLMQ": "true", "MIGRATION_PERCENTAGE": "50"}
    routed = {path_for(TenantMigration.from_env(flags), t.tenant_id) for t in tenants}
    assert routed == {"unified", "legacy"}, "the tenants chosen cover both paths"
    with psycopg.connect(database_url) as conn:
        write_tenants(conn, tenants)
    prefix = f"mixed-{uuid.uuid4().hex[:6]}"
    config = LoadConfig(redis_url, database_url, nats_url, prefix, flags, [Tenant(t.tenant_id, t.data_source_id) for t in tenants], [], "constant", str(tmp_path),
                        rate_syncs_per_s=10.0, duration_s=3.0, arrivals="uniform")
    config_path = tmp_path / "config.json"
    config.save(config_path)
    load = run_load(config_path, tmp_path)
    assert load.arrivals() == {"planned": 30, "fired": 30, "dropped": 0}
    by_path = {path: {j["job_key"]: j for j in load.jobs if j["path"] == path} for path in ("unified", "legacy")}
    assert by_path["unified"] and by_path["legacy"], "both paths had syncs"
    client = redis.Redis.from_url(redis_url)
    try:
        assert int(client.zcard(f"{prefix}:pipeline-jobs:prioritized")) == len(by_path["unified"])
    finally:
        client.close()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT payload, scheduled_at FROM scheduled_jobs WHERE status = 'pending'").fetchall()
    assert len(rows) == len(by_path["legacy"])
    for payload, scheduled_at in rows:
        key = f"{payload['syncId']}:{payload['entityType']}:{payload['batchNumber']}"
        recorded = by_path["legacy"][key]
        assert scheduled_at == datetime.fromisoformat(recorded["intended_at"]), "due at its intended time"
