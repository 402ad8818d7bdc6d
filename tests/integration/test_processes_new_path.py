"""The pipeline as processes: a BullMQ job for a tenant goes through the worker (sync
stages) and the unified analyzer, which commits one analysis; SIGTERM drains and exits 0."""

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

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.unified.queue import PipelineQueue
from rollout_bench.pipeline.supervisor import free_port
from rollout_bench.tenants import load_tenants
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _start(role: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "msp_pipeline", "run", "--role", role, "--metrics-port", str(port)],
                            env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _metrics_answer(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _enqueue(redis_url: str, tenant: str, sync_id: str) -> None:
    async def add() -> None:
        queue = PipelineQueue(redis_url)
        for entity_type in ENTITY_TYPES:
            await queue.add_sync_job(SyncJobData(tenant, f"ds-{tenant}", entity_type, sync_id))
        await queue.close()

    asyncio.run(add())


def test_job_to_committed_analysis_and_clean_stop(pipeline_env: dict[str, str], database_url: str,
                                                  redis_url: str, tmp_path: Path) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=9).tenant_ids[0]
    env = {**pipeline_env, "USE_BULLMQ": "true", "USE_UNIFIED_ANALYZER": "true", "UNIFIED_SETTLE_S": "2"}
    ports = {role: free_port() for role in ("worker", "unified-analyzer")}
    procs = {role: _start(role, env, port, tmp_path / f"{role}.log") for role, port in ports.items()}
    try:
        for port in ports.values():
            wait_until(lambda port=port: _metrics_answer(port), timeout=30, what="/metrics answers")
        _enqueue(redis_url, tenant, "sync-1")

        def analyses() -> list[tuple]:
            dead = {role: proc.returncode for role, proc in procs.items() if proc.poll() is not None}
            assert not dead, f"pipeline processes died: {dead}"
            with psycopg.connect(database_url) as conn:
                return conn.execute("SELECT path, sync_id, queries FROM analysis_runs").fetchall()

        rows = wait_until(analyses, timeout=60, what="a committed unified analysis")
        assert rows == [("unified", "sync-1", rows[0][2])]
        with psycopg.connect(database_url) as conn:
            jobs = conn.execute("SELECT count(*) FROM job_runs WHERE status = 'completed'").fetchone()
        assert jobs == (5,)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {role: proc.wait(timeout=40) for role, proc in procs.items()}
    assert codes == {"worker": 0, "unified-analyzer": 0}, [p.read_text() for p in tmp_path.glob("*.log")]


def test_bad_flag_stops_start_up(pipeline_env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "msp_pipeline", "run", "--role", "worker"],
                            env={**os.environ, **pipeline_env, "MIGRATION_PERCENTAGE": "150"},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "MIGRATION_PERCENTAGE" in result.stderr and "150" in result.stderr
