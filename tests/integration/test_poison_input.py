"""Poison input against the real servers: the `--role all` process meets a 200 KB message
of nested `[`, a 1 048 500-byte message, hypothesis-made payloads on linked.* and raw BullMQ
jobs whose data is not JSON; it stays alive, dead-letters each (the too-large one as a
truncated record), moves the bad jobs to failed with the reason, and still analyses a good
sync afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import nats
import psycopg
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msp_pipeline.bus import Bus
from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.subjects import QUEUE_NAME
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.unified.queue import PipelineQueue
from rollout_bench.pipeline.supervisor import free_port
from rollout_bench.tenants import load_tenants
from tests.support.waiting import async_wait_until, wait_until

pytestmark = pytest.mark.integration

NESTED_200KB = b"[" * 200_000
NEAR_MAX_PAYLOAD = b"x" * 1_048_500
RAW_JOB_DATA = ["{not json", "[" * 50_000, "\xff\xfe", json.dumps({"x": "y" * 300_000})]


def _metrics_text(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            return response.read().decode()
    except OSError:
        return ""


async def _publish_raw(nats_url: str, payloads: list[bytes]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for payload in payloads:
        await js.publish("linked.identities", payload, stream="PIPELINE")
    await nc.close()


async def _add_raw_jobs(redis_url: str, tenant: str) -> list[str]:
    """Valid jobs added with a delay, whose stored data is then overwritten with raw bytes
    before they come due: what a foreign producer writing the hash by hand leaves."""
    queue = PipelineQueue(redis_url)
    ids = []
    for n, _ in enumerate(RAW_JOB_DATA):
        ids.append(await queue.add_sync_job(SyncJobData(tenant, f"ds-{tenant}", "identities", f"poison-{n}"),
                                            delay_ms=1_500))
    await queue.close()
    client = redis.Redis.from_url(redis_url)
    for job_id, data in zip(ids, RAW_JOB_DATA):
        client.hset(f"bull:{QUEUE_NAME}:{job_id}", "data", data)
    client.close()
    return ids


def test_role_all_survives_poison_and_analyses_after(pipeline_env: dict[str, str], database_url: str,
                                                     redis_url: str, nats_url: str, tmp_path: Path) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=3).tenant_ids[0]
    port = free_port()
    env = {**os.environ, **pipeline_env, "USE_BULLMQ": "true", "USE_UNIFIED_ANALYZER": "true",
           "UNIFIED_SETTLE_S": "2"}
    log = tmp_path / "all.log"
    proc = subprocess.Popen([sys.executable, "-m", "msp_pipeline", "run", "--role", "all", "--metrics-port",
                             str(port)], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _metrics_text(port), timeout=30, what="/metrics answers")
        wait_until(lambda: asyncio.run(_consumers(nats_url)) >= 5, timeout=30, what="the five consumers exist")
        asyncio.run(_publish_raw(nats_url, [NESTED_200KB, NEAR_MAX_PAYLOAD, b"\x00\xff", b"{}"]))
        job_ids = asyncio.run(_add_raw_jobs(redis_url, tenant))

        def failed_jobs() -> dict[str, str]:
            assert proc.poll() is None, log.read_text()[-3000:]
            client = redis.Redis.from_url(redis_url, decode_responses=True)
            failed = {job_id: client.hget(f"bull:{QUEUE_NAME}:{job_id}", "failedReason") or ""
                      for job_id in client.zrange(f"bull:{QUEUE_NAME}:failed", 0, -1)}
            active = client.llen(f"bull:{QUEUE_NAME}:active")
            client.close()
            return failed if len(failed) == len(job_ids) and active == 0 else {}

        failed = wait_until(failed_jobs, timeout=60, what="every raw job in failed")
        assert sorted(failed) == sorted(job_ids)
        assert all(reason.startswith("invalid job data") for reason in failed.values()), failed

        async def add_good() -> None:
            queue = PipelineQueue(redis_url)
            for entity_type in ENTITY_TYPES:
                await queue.add_sync_job(SyncJobData(tenant, f"ds-{tenant}", entity_type, "good-1"))
            await queue.close()

        asyncio.run(add_good())

        def analysed() -> list[tuple]:
            assert proc.poll() is None, log.read_text()[-3000:]
            with psycopg.connect(database_url) as conn:
                return conn.execute("SELECT sync_id FROM analysis_runs WHERE path = 'unified'").fetchall()

        assert wait_until(analysed, timeout=90, what="the good sync analysed") == [("good-1",)]
        metrics = _metrics_text(port)
        dead_jobs = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                        if line.startswith("pipeline_dead_letters_total") and 'source="jobs"' in line)
        assert dead_jobs == len(RAW_JOB_DATA)
        records = asyncio.run(_dead_letters(nats_url))
        truncated = [json.loads(data) for data, headers in records if "Pipeline-Dead-Letter-Truncated" in headers]
        assert [t["size"] for t in truncated] == [len(NEAR_MAX_PAYLOAD)] * len(truncated) and truncated, (
            [(len(data), headers) for data, headers in records], log.read_text()[-3000:])
        assert "at most 262144 allowed" in truncated[0]["reason"]
        assert len(records) >= 4
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=40)
    assert code == 0, log.read_text()[-3000:]


async def _consumers(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return len(await nc.jetstream().consumers_info("PIPELINE"))
    except nats.js.errors.NotFoundError:
        return 0
    finally:
        await nc.close()


async def _dead_letters(nats_url: str) -> list[tuple[bytes, dict[str, str]]]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("deadletter.linked", stream="PIPELINE")
    records = []
    try:
        while True:
            records += await sub.fetch(50, timeout=1)
    except nats.errors.TimeoutError:
        pass
    await nc.close()
    return [(m.data, dict(m.headers or {})) for m in records]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=2_000) | st.text(max_size=500).map(str.encode) |
                st.integers(1, 400_000).map(lambda n: b"[" * n), min_size=1, max_size=5))
def test_consumer_outlives_fuzzed_payloads(nats_url: str, payloads: list[bytes]) -> None:
    """Whatever lands on linked.*, the consumer acks it and still handles the good event
    published after it."""

    async def run() -> list[str]:
        bus = await Bus.connect(nats_url, "fuzz", Metrics())
        handled: list[str] = []
        stop = asyncio.Event()
        good = LinkedEvent.new(tenant_id="t", data_source_id="d", entity_type="groups", sync_id="after",
                               changed=[])

        async def handler(event: LinkedEvent) -> None:
            handled.append(event.syncId)

        durable = f"fuzz-{os.urandom(4).hex()}"
        consumer = asyncio.create_task(bus.consume_linked(durable, handler, stop))
        await asyncio.sleep(0)  # the consumer subscribes first (DeliverPolicy.NEW)
        await async_wait_until(lambda: _consumer_exists(bus, durable), timeout=10, what="consumer created")
        for payload in payloads:
            await bus.publish("linked.identities", payload)
        await bus.publish("linked.groups", good.to_json())
        async def seen() -> bool:
            assert not consumer.done(), consumer
            return "after" in handled
        await async_wait_until(seen, timeout=20, what="the good event handled")
        stop.set()
        await asyncio.wait_for(consumer, 10)
        await bus.js.delete_consumer("PIPELINE", durable)
        await bus.close()
        return handled

    assert asyncio.run(run())[-1] == "after"


async def _consumer_exists(bus: Bus, durable: str) -> bool:
    try:
        await bus.js.consumer_info("PIPELINE", durable)
    except nats.js.errors.NotFoundError:
        return False
    return True
