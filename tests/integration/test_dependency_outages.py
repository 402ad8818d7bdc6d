"""Processes survive their dependencies: the `--role all` process keeps every role alive
while every backend of its database is terminated again and again under load, and every
job of both paths completes; and due retries leave BullMQ's `delayed` set with an idle
worker (redis-py's 5 s read timeout no longer swallows the worker's blocking wait)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg
import pytest
from bullmq import Queue, Worker

from msp_pipeline.unified.guarded_worker import worker_connection
from msp_pipeline.unified.queue import PipelineQueue
from rollout_bench.pipeline.supervisor import free_port
from rollout_bench.pipeline.wire import enqueue_legacy, enqueue_unified, sync_jobs
from rollout_bench.sql import load
from rollout_bench.tenants import load_tenants
from tests.support.waiting import async_wait_until, wait_until

pytestmark = pytest.mark.integration


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _terminate_backends(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        name = conn.info.dbname
        return len(conn.execute(load("drills/terminate_pipeline_backends"), (name,)).fetchall())


def test_role_all_survives_terminated_backends(pipeline_env: dict[str, str], database_url: str, redis_url: str,
                                               tmp_path: Path) -> None:
    tenants = load_tenants(database_url, "small", 2, seed=5)
    unified_tenant, legacy_tenant = tenants.tenant_ids[:2]
    sources = {t: f"ds-{t}" for t in tenants.tenant_ids}
    port = free_port()
    env = {**os.environ, **pipeline_env, "USE_BULLMQ": "true", "BULLMQ_TENANTS": unified_tenant,
           "USE_UNIFIED_ANALYZER": "true", "UNIFIED_ANALYZER_TENANTS": unified_tenant, "UNIFIED_SETTLE_S": "2"}
    log = tmp_path / "all.log"
    proc = subprocess.Popen([sys.executable, "-m", "msp_pipeline", "run", "--role", "all", "--metrics-port",
                             str(port)], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    keys: list[str] = []
    terminated = 0
    try:
        wait_until(lambda: _answers(port), timeout=30, what="/metrics answers")
        for n in range(6):
            unified = sync_jobs(unified_tenant, sources[unified_tenant], f"u-{n}")
            legacy = sync_jobs(legacy_tenant, sources[legacy_tenant], f"l-{n}")
            asyncio.run(_enqueue(redis_url, unified))
            with psycopg.connect(database_url, autocommit=True) as conn:  # the kill below ends it too
                enqueue_legacy(conn, legacy)
            keys += [j.job_key for j in unified + legacy]
            wait_until(lambda: _running_jobs(database_url) > 0, timeout=20, what="a job running")
            terminated += _terminate_backends(database_url)
            assert proc.poll() is None, log.read_text()[-3000:]

        def all_completed() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            with psycopg.connect(database_url) as conn:
                done = {k for (k,) in conn.execute(
                    "SELECT DISTINCT job_key FROM job_runs WHERE status = 'completed'").fetchall()}
            return set(keys) <= done

        try:
            wait_until(all_completed, timeout=120, interval=0.5, what="every job completed")
        except TimeoutError as exc:
            with psycopg.connect(database_url) as conn:
                runs = conn.execute("SELECT job_key, status, error FROM job_runs ORDER BY id").fetchall()
                legacy = conn.execute("SELECT id, action, status, attempts, next_retry_at, error FROM scheduled_jobs "
                                      "WHERE status <> 'completed'").fetchall()
            done = {k for k, status, _ in runs if status == "completed"}
            raise AssertionError(f"{exc}: not completed {sorted(set(keys) - done)}; job_runs {runs[-12:]}; "
                                 f"legacy rows not completed {legacy}; log {log.read_text()[-2500:]}") from exc
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=40)
    assert terminated >= 6
    assert code == 0, log.read_text()[-3000:]


async def _enqueue(redis_url: str, jobs: list) -> None:
    queue = PipelineQueue(redis_url)
    await enqueue_unified(queue, jobs)
    await queue.close()


def _running_jobs(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return int(conn.execute("SELECT count(*) FROM job_runs WHERE status = 'running'").fetchone()[0])


def test_due_retries_leave_delayed_with_an_idle_worker(redis_url: str) -> None:
    """A retry 6 s later: the worker's blocking wait for it is longer than redis-py's default
    5 s read timeout, which used to keep the job in `delayed` for minutes."""

    async def run() -> dict[str, int]:
        prefix = f"delayed-{os.urandom(3).hex()}"
        queue = Queue("retry-test", {"connection": redis_url, "prefix": prefix})
        attempts: dict[str, int] = {}

        async def process(job, token):  # noqa: ANN001 - bullmq's processor signature
            attempts[job.id] = attempts.get(job.id, 0) + 1
            if attempts[job.id] == 1:
                raise RuntimeError("first attempt fails")
            return "ok"

        worker = Worker("retry-test", process, {"connection": worker_connection(redis_url), "prefix": prefix,
                                                "autorun": False, "concurrency": 5})
        task = asyncio.create_task(worker.run())
        for n in range(3):
            await queue.add("sync", {"n": n}, {"jobId": f"j{n}", "attempts": 2,
                                               "backoff": {"type": "fixed", "delay": 6_000}})

        async def completed() -> bool:
            return (await queue.getJobCounts("completed"))["completed"] == 3

        try:
            await async_wait_until(completed, timeout=30, interval=0.5, what="the retries completed")
        finally:
            await worker.close()
            await asyncio.gather(task, return_exceptions=True)
            await queue.obliterate(force=True)
            await queue.close()
        return attempts

    assert asyncio.run(run()) == {"j0": 2, "j1": 2, "j2": 2}
