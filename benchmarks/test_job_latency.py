"""Job latency on the new path: BullMQ add -> a real worker starts the job (job_runs)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.metrics import Metrics
from msp_pipeline.unified.queue import PipelineQueue
from msp_pipeline.unified.worker import SyncWorker

JOB_LATENCY_TARGET_S = 1.0


DEADLINE_S = 10.0
ROUNDS = 200


class _Routing:
    def should_use_bullmq(self, tenant_id: str | None) -> bool:
        return True


class _OneJobPerRound:
    """A real worker on its own event loop thread; `one_job` adds one BullMQ job and waits,
    with a deadline, until the worker has started it (what pytest-benchmark times)."""

    def __init__(self, url: str, redis_url: str, nats_url: str) -> None:
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        settings = Settings.from_env({"DATABASE_URL": url, "REDIS_URL": redis_url, "NATS_URL": nats_url,
                                      "BULLMQ_PREFIX": prefix})
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT id FROM tenants LIMIT 1").fetchone()
        assert row is not None, "the benchmark database has no tenant"
        self.tenant = str(row[0])
        self.started: dict[str, threading.Event] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-worker-loop", daemon=True)
        self.thread.start()
        self.stop = self._call(self._make_event())
        worker = SyncWorker(settings, Metrics(), _Routing(), self._handle)
        self.worker = asyncio.run_coroutine_threadsafe(worker.run(self.stop), self.loop)
        self.queue = PipelineQueue(redis_url, prefix)
        self.count = 0

    @staticmethod
    async def _make_event() -> asyncio.Event:
        return asyncio.Event()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=DEADLINE_S)

    async def _handle(self, job: SyncJobData) -> None:
        event = self.started.get(job.syncId)
        if event is not None:
            event.set()

    def one_job(self) -> None:
        self.count += 1
        sync_id = f"lat-{self.count}"
        event = self.started[sync_id] = threading.Event()
        self._call(self.queue.add_sync_job(SyncJobData(self.tenant, f"ds-{self.tenant}", "identities", sync_id,
                                                       intendedAt=datetime.now(timezone.utc).isoformat())))
        if not event.wait(DEADLINE_S):
            raise AssertionError(f"job {sync_id} was not started within {DEADLINE_S} s")

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        try:
            self.worker.result(timeout=DEADLINE_S)
            self._call(self.queue.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=DEADLINE_S)


def test_job_latency_new_path(benchmark, bench_stack, tenant_databases) -> None:
    """One job per round, ROUNDS rounds: pytest-benchmark's statistics are over jobs."""
    url, _ = tenant_databases["worked-example"]
    bench = _OneJobPerRound(url, bench_stack.redis_url, bench_stack.nats_url)
    try:
        benchmark.pedantic(bench.one_job, rounds=ROUNDS, iterations=1, warmup_rounds=5)
    finally:
        bench.close()
    stats = benchmark.stats.stats
    benchmark.extra_info.update(jobs=ROUNDS, p50_ms=round(stats.median * 1000, 2))
    assert stats.median < JOB_LATENCY_TARGET_S


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
