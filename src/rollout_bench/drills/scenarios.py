"""The fault drills of the refactor plan's promises: zero data loss, a tested rollback, alerts when
Redis goes down. Each runs under load against a stack it owns and reports what was lost."""

from __future__ import annotations

import re
import signal
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from msp_pipeline.migration import TenantMigration
from rollout_bench.drills.base import (
    DrillResult,
    drill_context,
    duplicated_history_rows,
)

DRAIN_S = 150.0  # BullMQ finds a killed worker's jobs stalled after its lock (30 s) expires


def _first_start_after(context, moment: float, path: str) -> float | None:
    value = context.query("drills/first_start_after", (moment, path))[0][0]
    return None if value is None else float(value) - moment


def worker_kill(out: Path, progress: Callable[[str], None]) -> DrillResult:
    result = DrillResult("worker-kill")
    with drill_context(result.name, out, progress) as ctx:
        ctx.supervisor.start("worker")
        with ctx.steady_load() as load:
            for kill in range(10):
                time.sleep(3)
                victim = next(p for p in reversed(ctx.supervisor.processes) if p.role == "worker" and p.alive())
                ctx.supervisor.kill(victim, signal.SIGKILL)
                ctx.supervisor.start("worker")
                progress(f"worker-kill: SIGKILL {victim.name} ({kill + 1}/10)")
        totals = ctx.drain(load.jobs, DRAIN_S)
        duplicates = duplicated_history_rows(ctx)
    result.figures = {"enqueued": totals.enqueued, "completed": totals.completed, "failed": totals.failed,
                      "kills": 10, "refused_arrivals": load.refused}
    result.check("jobs lost", "== 0", totals.lost, totals.lost == 0)
    result.check("jobs completed twice", "== 0", totals.duplicated, totals.duplicated == 0)
    result.check("duplicated alert history rows", "== 0", duplicates, duplicates == 0)
    return result


def _redis_up_values(url: str) -> list[float]:
    with urllib.request.urlopen(url, timeout=2) as response:
        text = response.read().decode()
    return [float(v) for v in re.findall(r"^pipeline_redis_up\S*\s+([0-9.]+)$", text, re.MULTILINE)]


def redis_restart(out: Path, progress: Callable[[str], None]) -> DrillResult:
    result = DrillResult("redis-restart")
    with drill_context(result.name, out, progress) as ctx:
        worker = next(p for p in ctx.supervisor.processes if p.role == "worker")
        seen_down = False
        with ctx.steady_load() as load:
            time.sleep(5)
            ctx.stack.servers["redis"].stop()  # type: ignore[attr-defined]
            down_at = time.time()
            progress("redis-restart: Redis stopped")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not seen_down:
                seen_down = 0.0 in _redis_up_values(worker.metrics_url)
                time.sleep(0.2)
            ctx.stack.servers["redis"].spawn()  # type: ignore[attr-defined]
            ctx.stack.wait_until_answers(["redis"])  # type: ignore[attr-defined]
            back_at = time.time()
            progress(f"redis-restart: Redis back after {back_at - down_at:.1f} s")
            time.sleep(10)
        totals = ctx.drain(load.jobs, DRAIN_S)
        resumed = _first_start_after(ctx, back_at, "unified")
    result.figures = {"enqueued": totals.enqueued, "completed": totals.completed, "refused_arrivals": load.refused,
                      "redis_down_s": round(back_at - down_at, 2),
                      "resumed_after_s": None if resumed is None else round(resumed, 2)}
    result.check("jobs lost", "== 0", totals.lost, totals.lost == 0)
    result.check("pipeline resumed by itself", "a job started after the restart", resumed, resumed is not None)
    result.check("RedisDown seen on /metrics (pipeline_redis_up 0)", "seen", seen_down, seen_down)
    return result


def nats_restart(out: Path, progress: Callable[[str], None]) -> DrillResult:
    result = DrillResult("nats-restart")
    with drill_context(result.name, out, progress) as ctx:
        with ctx.steady_load() as load:
            time.sleep(5)
            ctx.stack.restart("nats")
            progress("nats-restart: NATS restarted")
            time.sleep(10)
        totals = ctx.drain(load.jobs, DRAIN_S)
        syncs, per_sync = ctx.analyses_per_sync(load.jobs, timeout_s=60)
    missing = len(syncs - set(per_sync))
    twice = sum(1 for n in per_sync.values() if n > 1)
    result.figures = {"syncs": len(syncs), "analysed": len(per_sync), "jobs_completed": totals.completed}
    result.check("jobs lost", "== 0", totals.lost, totals.lost == 0)
    result.check("syncs never analysed (linked events lost)", "== 0", missing, missing == 0)
    result.check("syncs analysed twice", "== 0", twice, twice == 0)
    return result


def rollback(out: Path, progress: Callable[[str], None]) -> DrillResult:
    """Week 5 flags under load, then the refactor plan's emergency rollback: both flags off and the
    pipeline restarted."""
    result = DrillResult("rollback")
    off = {"USE_BULLMQ": "false", "USE_UNIFIED_ANALYZER": "false"}
    with drill_context(result.name, out, progress) as ctx:
        with ctx.steady_load() as load:
            time.sleep(10)
            started = time.time()
            ctx.routing = TenantMigration.from_env({**ctx.env, **off})
            ctx.supervisor.stop_all()
            ctx.supervisor.env.update(off)
            for role in ("scheduler", "worker", "legacy-analyzers", "unified-analyzer"):
                ctx.supervisor.start(role)
            restarted = time.time()
            progress(f"rollback: pipeline restarted with both flags off in {restarted - started:.1f} s")
            time.sleep(15)
        totals = ctx.drain(load.jobs, DRAIN_S)
        last_new = ctx.query("drills/last_start_on_path_after", (started, "unified"))[0][0]
        first_legacy = _first_start_after(ctx, started, "legacy")
    on_legacy_after = max(0.0, (float(last_new) - started) if last_new else 0.0, first_legacy or 0.0)
    result.figures = {"enqueued": totals.enqueued, "completed": totals.completed,
                      "restart_s": round(restarted - started, 2),
                      "all_new_jobs_on_legacy_after_s": round(on_legacy_after, 2), "by_path": totals.by_path}
    result.check("jobs lost in flight", "== 0", totals.lost, totals.lost == 0)
    result.check("every new job on the legacy path within", "<= 60 s", round(on_legacy_after, 2),
                 first_legacy is not None and on_legacy_after <= 60)
    return result


def postgres_faults(out: Path, progress: Callable[[str], None]) -> DrillResult:
    """50 ms added to every query through a TCP proxy, and the pipeline's backends killed
    with pg_terminate_backend, under load."""
    from urllib.parse import urlsplit


    result = DrillResult("postgres-faults")
    with drill_context(result.name, out, progress, proxy_delay_s=0.05) as ctx:
        with ctx.steady_load() as load:
            for _ in range(3):
                time.sleep(6)
                killed = ctx.query("drills/terminate_pipeline_backends", (urlsplit(ctx.database_url).path[1:],))
                progress(f"postgres-faults: terminated {len(killed)} pipeline backends")
        totals = ctx.drain(load.jobs, DRAIN_S)
        syncs, per_sync = ctx.analyses_per_sync(load.jobs, timeout_s=60)
        alerts = ctx.alert_accuracy()
        latency = ctx.query("loadtests/job_latency_percentiles")
        queries = ctx.query("drills/queries_per_analysis")
    missing = len(syncs - set(per_sync))
    result.figures = {"enqueued": totals.enqueued, "completed": totals.completed, "failed": totals.failed,
                      "job_latency_ms_p50_p95_p99": {p: [round(v or 0, 1) for v in rest[1:]] for p, *rest in latency},
                      "queries_per_analysis_min_max": {p: [lo, hi] for p, lo, hi in queries}, "proxy_delay_ms": 50, "alerts": alerts}
    result.check("jobs lost", "== 0", totals.lost, totals.lost == 0)
    result.check("syncs never analysed (analyses not retried)", "== 0", missing, missing == 0)
    result.check("alerts missing or extra after the faults (no partial writes)", "== 0",
                 alerts["missing"] + alerts["extra"], alerts["missing"] + alerts["extra"] == 0)
    return result


DRILLS: dict[str, Callable[[Path, Callable[[str], None]], DrillResult]] = {
    "worker-kill": worker_kill, "redis-restart": redis_restart, "nats-restart": nats_restart, "rollback": rollback,
    "postgres-faults": postgres_faults,
}
