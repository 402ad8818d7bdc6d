"""The process runner as real processes: `--role all` next to a second worker serves
/metrics, runs a legacy job through the scheduler and the sync stages, logs a start-up line
without the database password, and exits 0 on SIGTERM; a bad flag exits 2 at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg
import pytest

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.subjects import sync_action
from rollout_bench.pipeline.supervisor import free_port
from rollout_bench.tenants import load_tenants
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
SECRET = "pl4nted-pw-not-for-logs"
STOP_DEADLINE_S = 40


def _start(role: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "msp_pipeline", "run", "--role", role,
                                 "--metrics-port", str(port)],
                                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)


def _metrics(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            return response.read().decode() if response.status == 200 else ""
    except OSError:
        return ""


def test_role_all_and_a_second_worker_serve_run_a_job_and_stop_cleanly(pipeline_env: dict[str, str],
                                                                      database_url: str, tmp_path: Path) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=21).tenant_ids[0]
    env = {**pipeline_env, "DATABASE_URL": database_url.replace("postgresql://postgres@",
                                                                f"postgresql://postgres:{SECRET}@")}
    assert SECRET in env["DATABASE_URL"]
    ports = {"all": free_port(), "worker": free_port()}
    procs = {role: _start(role, env, port, tmp_path / f"{role}.log") for role, port in ports.items()}
    try:
        for role, port in ports.items():
            text = wait_until(lambda role=role, port=port: procs[role].poll() is None and _metrics(port), timeout=30,
                              what=f"/metrics of {role}")
            assert "pipeline_queue_depth" in text and "pipeline_query_duration_seconds" in text
        job = SyncJobData(tenant, f"ds-{tenant}", "identities", "legacy-sync-1")
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO scheduled_jobs (tenant_id, data_source_id, action, payload) "
                         "VALUES (%s, %s, %s, %s)", (tenant, job.dataSourceId, sync_action("identities"),
                                                     json.dumps(job.to_dict())))

        def synced() -> bool:
            assert all(p.poll() is None for p in procs.values()), "a pipeline process died"
            with psycopg.connect(database_url) as conn:
                row = conn.execute("SELECT current_sync_id, last_sync_at ? 'identities' FROM data_sources").fetchone()
            return row == ("legacy-sync-1", True)

        wait_until(synced, timeout=30, what="the legacy job synced by the scheduler role")
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {role: proc.wait(timeout=STOP_DEADLINE_S) for role, proc in procs.items()}
    logs = {role: (tmp_path / f"{role}.log").read_text() for role in procs}
    assert codes == {"all": 0, "worker": 0}, logs
    startup = next(json.loads(line) for line in logs["all"].splitlines() if '"context":"startup"' in line)
    assert startup["roles"] == ["scheduler", "worker", "legacy-analyzers", "unified-analyzer"]
    assert startup["flags"]["bullmq_enabled"] is False and startup["settings"]["sync_page_size"] == 100
    assert all(SECRET not in text for text in logs.values())
    assert '"message":"drained and stopped"' in logs["all"]


def test_a_bad_flag_exits_2_with_one_line_before_anything_starts(pipeline_env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "msp_pipeline", "run", "--role", "all"],
                            env={**os.environ, **pipeline_env, "USE_BULLMQ": "maybe"},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "USE_BULLMQ" in result.stderr and "maybe" in result.stderr
    assert result.stdout == ""
