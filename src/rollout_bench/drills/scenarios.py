"""The fault drills of the refactor plan's promises: zero data loss, a tested rollback, alerts when
Redis goes down. Each runs under load against a stack it owns and reports what was lost."""

from __future__ import annotations

import asyncio
import re
import signal
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from msp_pipeline.contract.events import PUBLISH_TIMEOUT_S
from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.migration import TenantMigration
from rollout_bench.drills.base import (
    DrillContext,
    DrillResult,
    drill_context,
    duplicated_history_rows,
)
from rollout_bench.drills.evidence import common_checks, jobs_held_by, metric_total, queued_jobs
from rollout_bench.drills.gradual import gradual_rollback
from rollout_bench.drills.load import SteadyLoad
from rollout_bench.drills.redis_control import jobs_lost_at_sigkill
from rollout_bench.pipeline.wire import enqueue_unified, sync_jobs

DRAIN_S = 150.0  # BullMQ finds a killed worker's jobs stalled after its lock (30 s) expires
WORKER_KILLS = 10
HELD_JOB_WAIT_S = 30.0  # how long a kill waits for its victim to hold a running job
BURST_SYNCS = 60  # syncs (5 jobs each) added at once before the Redis kill: jobs waiting at the kill
NATS_OUTAGE_S = 3 * PUBLISH_TIMEOUT_S + 2.0  # NATS down longer than one publish waits for its ack


def _first_start_after(context: DrillContext, moment: float, path: str) -> float | None:
    value = context.query("drills/first_start_after", (moment, path))[0][0]
    return None if value is None else float(value) - moment


def _wait_for_held_job(ctx: DrillContext, pid: int) -> list[str]:
    deadline = time.monotonic() + HELD_JOB_WAIT_S
    while time.monotonic() < deadline:
        held = jobs_held_by(ctx.stack.urls.redis_url, ctx.prefix, pid)
        if held:
            return held
        time.sleep(0.01)
    return []


def worker_kill(out: Path, progress: Callable[[str], None]) -> DrillResult:
    """SIGKILL of a worker (worker-0 first, then each in turn) while it holds a running
    job, 10 times; a new worker replaces each."""
    result = DrillResult("worker-kill")
    with drill_context(result.name, out, progress) as ctx:
        ctx.supervisor.start("worker")
        kills: list[dict[str, object]] = []
        with ctx.steady_load() as load:
            time.sleep(3)
            fault_start = time.time()
            for n in range(WORKER_KILLS):
                workers = [p for p in ctx.supervisor.processes if p.role == "worker" and p.alive()]
                victim = workers[n % len(workers)]
                held = _wait_for_held_job(ctx, victim.popen.pid)
                ctx.supervisor.kill(victim, signal.SIGKILL)
                kills.append({"victim": victim.name, "jobs_held": len(held), "job_ids": held, "at": time.time()})
                ctx.supervisor.start("worker")
                progress(f"worker-kill: SIGKILL {victim.name} holding {len(held)} running jobs ({n + 1}/10)")
            fault_end = time.time()
            time.sleep(5)
        totals = ctx.drain(load.jobs, DRAIN_S)
        duplicates = duplicated_history_rows(ctx)
        twice = {key for (key,) in ctx.query("drills/jobs_completed_twice")}
        held_done = {key: float(at) for key, at in ctx.query(
            "drills/completion_times", ([job for kill in kills for job in kill["job_ids"]],))}  # type: ignore[attr-defined]
        common_checks(result, ctx, totals, load, (fault_start, fault_end))
    held_ids = {job for kill in kills for job in kill["job_ids"]}  # type: ignore[attr-defined]
    with_jobs = sum(1 for kill in kills if kill["jobs_held"])
    # a held job is recovered when BullMQ finds it stalled (its lock expired) and another worker completes it
    recovered = [held_done[job] - float(kill["at"]) for kill in kills for job in kill["job_ids"]  # type: ignore[attr-defined]
                 if job in held_done]
    result.figures.update({"kills": [{"victim": kill["victim"], "jobs_held": kill["jobs_held"]} for kill in kills],
                           "jobs_completed_twice": len(twice),
                           "held_jobs_completed_after_kill_s": {"max": round(max(recovered), 1) if recovered else None,
                                                                "count": len(recovered), "of": len(held_ids)}})
    result.check("kills of a worker holding a running job", f"== {WORKER_KILLS}", with_jobs,
                 with_jobs == WORKER_KILLS)
    result.check("jobs held at a kill completed later", f"== {len(held_ids)}", len(recovered),
                 len(recovered) == len(held_ids))
    result.check("worker-0 among the victims", "yes", kills[0]["victim"] if kills else None,
                 any(kill["victim"] == "worker-0" for kill in kills))
    result.check("jobs completed twice that were not held at a kill (at-least-once only)", "== 0",
                 len(twice - held_ids), not twice - held_ids)
    result.check("duplicated alert history rows", "== 0", duplicates, duplicates == 0)
    return result


def _redis_up_values(url: str) -> list[float]:
    with urllib.request.urlopen(url, timeout=2) as response:
        text = response.read().decode()
    return [float(v) for v in re.findall(r"^pipeline_redis_up\S*\s+([0-9.]+)$", text, re.MULTILINE)]


async def _burst(ctx: DrillContext, load: SteadyLoad) -> None:
    producer = SyncJobProducer(ctx.stack.urls.redis_url, ctx.prefix)
    try:
        for n in range(BURST_SYNCS):
            tenant = ctx.tenants[n % len(ctx.tenants)]
            jobs = sync_jobs(tenant.tenant_id, tenant.data_source_id, f"drill-burst-{n:04d}")
            await enqueue_unified(producer, jobs)
            load.jobs += [{"job_key": j.job_key, "path": "unified", "at": time.time()} for j in jobs]
    finally:
        await producer.close()


def redis_restart(out: Path, progress: Callable[[str], None]) -> DrillResult:
    """Redis (AOF on) killed with SIGKILL right after a burst, while jobs wait and run; a
    control on a Redis of its own shows the same kill without AOF loses waiting jobs."""
    result = DrillResult("redis-restart")
    with drill_context(result.name, out, progress) as ctx:
        worker = next(p for p in ctx.supervisor.processes if p.role == "worker")
        redis_server = ctx.stack.servers["redis"]  # type: ignore[attr-defined]
        seen_down = False
        with ctx.steady_load() as load:
            time.sleep(5)
            asyncio.run(_burst(ctx, load))
            at_kill = queued_jobs(ctx.stack.urls.redis_url, ctx.prefix)
            redis_server.stop(kill=True)  # SIGKILL: no shutdown save, only what the AOF holds
            down_at = time.time()
            progress(f"redis-restart: Redis SIGKILLed with {len(at_kill['waiting'])} jobs waiting, "
                     f"{len(at_kill['active'])} running")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not seen_down:
                seen_down = 0.0 in _redis_up_values(worker.metrics_url)
                time.sleep(0.2)
            redis_server.spawn()
            ctx.stack.wait_until_answers(["redis"])  # type: ignore[attr-defined]
            back_at = time.time()
            after = queued_jobs(ctx.stack.urls.redis_url, ctx.prefix)
            progress(f"redis-restart: Redis back after {back_at - down_at:.1f} s")
            time.sleep(10)
        totals = ctx.drain(load.jobs, DRAIN_S)
        common_checks(result, ctx, totals, load, (down_at, back_at))
        waiting = set(at_kill["waiting"])
        # a waiting job survived if Redis still had it after the restart, or it completed before the kill
        survived = len(waiting & (set(after["waiting"]) | set(after["active"]) | _completed_keys(ctx, waiting)))
    progress("redis-restart: control: the same SIGKILL on a Redis of its own, AOF on and off")
    control_aof, control_no_aof = jobs_lost_at_sigkill(aof=True), jobs_lost_at_sigkill(aof=False)
    result.figures.update({"jobs_waiting_at_kill": len(waiting), "jobs_running_at_kill": len(at_kill["active"]),
                           "waiting_jobs_survived": survived, "redis_down_s": round(back_at - down_at, 2),
                           "control_aof_on": control_aof, "control_aof_off": control_no_aof})
    result.check("jobs waiting at the SIGKILL", "> 0", len(waiting), len(waiting) > 0)
    result.check("waiting jobs that survived the SIGKILL (AOF)", f"== {len(waiting)}", survived,
                 survived == len(waiting))
    result.check("control without AOF lost its waiting jobs", f"== {control_no_aof['waiting']}",
                 control_no_aof["lost"], control_no_aof["lost"] == control_no_aof["waiting"] > 0)
    result.check("control with AOF lost none", "== 0", control_aof["lost"], control_aof["lost"] == 0)
    result.check("RedisDown seen on /metrics (pipeline_redis_up 0)", "seen", seen_down, seen_down)
    return result


def _completed_keys(ctx: DrillContext, keys: set[str]) -> set[str]:
    rows = ctx.query("drills/completed_keys", (list(keys),))
    return {key for (key,) in rows}


def nats_restart(out: Path, progress: Callable[[str], None]) -> DrillResult:
    """NATS down for longer than a publish waits for its ack while syncs keep arriving; the
    publisher retries (same Nats-Msg-Id, stored once), so every linked.* event arrives after."""
    result = DrillResult("nats-restart")
    with drill_context(result.name, out, progress) as ctx:
        nats_server = ctx.stack.servers["nats"]  # type: ignore[attr-defined]
        workers = [p for p in ctx.supervisor.processes if p.role == "worker"]
        with ctx.steady_load() as load:
            time.sleep(5)
            retries_before = sum(metric_total(w.metrics_url, "pipeline_errors_total", "publish_retry") for w in workers)
            nats_server.stop(kill=True)
            down_at = time.time()
            progress(f"nats-restart: NATS killed; down for {NATS_OUTAGE_S:g} s")
            time.sleep(NATS_OUTAGE_S)
            retries = sum(metric_total(w.metrics_url, "pipeline_errors_total", "publish_retry")
                          for w in workers) - retries_before
            nats_server.spawn()
            ctx.stack.wait_until_answers(["nats"])  # type: ignore[attr-defined]
            back_at = time.time()
            progress(f"nats-restart: NATS back after {back_at - down_at:.1f} s")
            time.sleep(10)
        totals = ctx.drain(load.jobs, DRAIN_S)
        started_during = int(ctx.query("drills/jobs_started_between", (down_at, back_at))[0][0])
        syncs, per_sync = ctx.analyses_per_sync(load.jobs, timeout_s=60)
        common_checks(result, ctx, totals, load, (down_at, back_at))
    missing = len(syncs - set(per_sync))
    twice = sum(1 for n in per_sync.values() if n > 1)
    result.figures.update({"nats_down_s": round(back_at - down_at, 2), "publish_timeout_s": PUBLISH_TIMEOUT_S,
                           "jobs_started_during_outage": started_during, "publish_retries_during_outage": retries,
                           "syncs": len(syncs), "analysed": len(per_sync), "delivery": "publisher retry"})
    result.check("NATS down longer than the publish timeout", f"> {PUBLISH_TIMEOUT_S:g} s",
                 round(back_at - down_at, 2), back_at - down_at > PUBLISH_TIMEOUT_S)
    result.check("syncs that ran (and published) during the outage", "> 0", started_during, started_during > 0)
    result.check("publishes retried during the outage", "> 0", retries, retries > 0)
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
        common_checks(result, ctx, totals, load, (started, restarted))
    on_legacy_after = max(0.0, (float(last_new) - started) if last_new else 0.0, first_legacy or 0.0)
    result.figures.update({"restart_s": round(restarted - started, 2),
                           "all_new_jobs_on_legacy_after_s": round(on_legacy_after, 2), "by_path": totals.by_path})
    result.check("jobs lost in flight", "== 0", totals.lost, totals.lost == 0)
    result.check("every new job on the legacy path within", "<= 60 s", round(on_legacy_after, 2),
                 first_legacy is not None and on_legacy_after <= 60)
    return result


def postgres_faults(out: Path, progress: Callable[[str], None]) -> DrillResult:
    """50 ms added to every query through a TCP proxy, and the backends of every pipeline
    role killed with pg_terminate_backend, three times under load."""
    from urllib.parse import urlsplit

    result = DrillResult("postgres-faults")
    with drill_context(result.name, out, progress, proxy_delay_s=0.05) as ctx:
        roles = {p.role for p in ctx.supervisor.processes}
        rounds: list[dict[str, int]] = []
        with ctx.steady_load() as load:
            time.sleep(3)
            fault_start = time.time()
            for _ in range(3):
                time.sleep(6)
                killed = ctx.query("drills/terminate_pipeline_backends", (urlsplit(ctx.database_url).path[1:],))
                by_role: dict[str, int] = {}
                for _, application in killed:
                    role = str(application or "unnamed").removeprefix("pipeline-").rsplit("-", 1)[0]
                    by_role[role] = by_role.get(role, 0) + 1
                rounds.append(by_role)
                progress(f"postgres-faults: terminated {len(killed)} pipeline backends {by_role}")
            fault_end = time.time()
            time.sleep(5)
        totals = ctx.drain(load.jobs, DRAIN_S)
        syncs, per_sync = ctx.analyses_per_sync(load.jobs, timeout_s=60)
        alerts = ctx.alert_accuracy()
        latency = ctx.query("loadtests/job_latency_percentiles")
        queries = ctx.query("drills/queries_per_analysis")
        common_checks(result, ctx, totals, load, (fault_start, fault_end))
    missing = len(syncs - set(per_sync))
    hit = {role for by_role in rounds for role in by_role}
    result.figures.update({
        "backends_terminated_by_role": rounds,
        "job_latency_ms_p50_p95_p99": {p: [round(v or 0, 1) for v in rest[1:]] for p, *rest in latency},
        "queries_per_analysis_min_max": {p: [lo, hi] for p, lo, hi in queries}, "proxy_delay_ms": 50,
        "alerts": alerts})
    result.check("roles whose backends were terminated", f"all of {sorted(roles)}", sorted(hit), roles <= hit)
    result.check("syncs never analysed (analyses not retried)", "== 0", missing, missing == 0)
    result.check("alerts missing or extra after the faults (no partial writes)", "== 0",
                 alerts["missing"] + alerts["extra"], alerts["missing"] + alerts["extra"] == 0)
    return result


DRILLS: dict[str, Callable[[Path, Callable[[str], None]], DrillResult]] = {
    "worker-kill": worker_kill, "redis-restart": redis_restart, "nats-restart": nats_restart, "rollback": rollback,
    "postgres-faults": postgres_faults, "gradual-rollback": gradual_rollback,
}
