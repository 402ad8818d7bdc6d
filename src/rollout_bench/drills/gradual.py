"""The seed's gradual rollback under load at week 4 (50 %): MIGRATION_PERCENTAGE=25, then an
explicit BULLMQ_TENANTS / UNIFIED_ANALYZER_TENANTS list of two tenants, then the same moves
in reverse (list -> 25 -> 50). Each step restarts the pipeline; BullMQ jobs of the tenants
that leave are queued while no worker runs, so the new worker must hand them over. A tenant
that leaves first gets an MFA exclusion (an alert the new path raises) that is lifted once it
is on legacy: the legacy alert manager's MFA resolve bug keeps that alert, the drill reports
it by quirk, and the new path resolves it when the tenant comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.migration import TenantMigration
from msp_pipeline.rules import ALERT_TYPES_OF_RULE_SET
from rollout_bench.collect import records as collect
from rollout_bench.drills import cohort
from rollout_bench.drills import gradual_evidence as evidence
from rollout_bench.drills.base import DrillContext, DrillResult, drill_context
from rollout_bench.drills.evidence import common_checks
from rollout_bench.drills.load import SteadyLoad
from rollout_bench.load.weeks import ALL_ROLES
from rollout_bench.pipeline.wire import enqueue_unified, sync_jobs
from rollout_bench.sql import load as load_sql
from rollout_bench.tenants.mutations import MFA_FOR_ALL, Mutation
from rollout_bench.tenants.replay import expected_after

PLAN_SWITCH_S = 300.0  # the refactor plan: every new job of a moved tenant on its path in < 5 minutes
DRAIN_S = 120.0
WAIT_S = 60.0  # for a tenant's next analysis on a path
STEP_LOAD_S = 8.0  # load after a restart before the next step
HANDOVER_SYNCS = 2  # syncs per leaving tenant queued on BullMQ while no worker runs


@dataclass
class Step:
    label: str
    flags: dict[str, str]
    before: TenantMigration
    after: TenantMigration
    started: float = 0.0
    restarted: float = 0.0
    ended: float = 0.0
    handover_keys: list[str] = field(default_factory=list)


async def _queue_on_bullmq(ctx: DrillContext, load: SteadyLoad, tenants: list[str], step: int) -> list[str]:
    producer = SyncJobProducer(ctx.stack.urls.redis_url, ctx.prefix)
    keys: list[str] = []
    try:
        by_id = {t.tenant_id: t for t in ctx.tenants}
        for n in range(HANDOVER_SYNCS):
            for tenant_id in tenants:
                jobs = sync_jobs(tenant_id, by_id[tenant_id].data_source_id, f"drill-handover-{step}-{n}-{tenant_id}")
                await enqueue_unified(producer, jobs)
                load.jobs += [{"job_key": j.job_key, "path": "unified", "at": time.time()} for j in jobs]
                keys += [j.job_key for j in jobs]
    finally:
        await producer.close()
    return keys


def _restart(ctx: DrillContext, load: SteadyLoad, step: Step, index: int) -> None:
    """Stops every pipeline process, queues BullMQ jobs for the tenants about to leave (no
    worker runs: the new one must hand them over), restarts with the step's flags; the
    producer (the load) follows the new routing once the pipeline is back."""
    ids = [t.tenant_id for t in ctx.tenants]
    leaving = sorted(cohort.new_path_cohort(step.before, ids) - cohort.new_path_cohort(step.after, ids))
    step.started = time.time()
    ctx.supervisor.stop_all()
    ctx.supervisor.env.update(step.flags)
    step.handover_keys = asyncio.run(_queue_on_bullmq(ctx, load, leaving, index)) if leaving else []
    for role in ALL_ROLES:
        ctx.supervisor.start(role)
    ctx.routing = step.after  # before the stamp: every job routed after `restarted` follows the new flags
    step.restarted = time.time()
    ctx.progress(f"gradual-rollback: {step.label}: restarted in {step.restarted - step.started:.1f} s, "
                 f"{len(step.handover_keys)} jobs of {leaving or 'no tenant'} left on BullMQ")


def _steps(ctx: DrillContext) -> list[Step]:
    ids = [t.tenant_id for t in ctx.tenants]
    at_25 = sorted(cohort.new_path_cohort(TenantMigration.from_env({**ctx.env, "MIGRATION_PERCENTAGE": "25"}), ids))
    kept = ",".join(at_25[:2])
    flags = [("50 -> 25", {"MIGRATION_PERCENTAGE": "25"}),
             (f"25 -> list {kept}", {"BULLMQ_TENANTS": kept, "UNIFIED_ANALYZER_TENANTS": kept}),
             ("list -> 25 (reverse)", {"BULLMQ_TENANTS": "", "UNIFIED_ANALYZER_TENANTS": ""}),
             ("25 -> 50 (reverse)", {"MIGRATION_PERCENTAGE": "50"})]
    steps, env = [], dict(ctx.env)
    for label, change in flags:
        before = TenantMigration.from_env(env)
        env.update(change)
        steps.append(Step(label, change, before, TenantMigration.from_env(env)))
    return steps


def _mfa_alert_of(ctx: DrillContext, tenant_id: str, user: str) -> bool:
    with psycopg.connect(ctx.database_url) as conn:
        active = collect.active_findings(conn).get(tenant_id, [])
    return any(f.entity_external_id == user and f.alert_type in ALERT_TYPES_OF_RULE_SET["mfa"] for f in active)


def _wait_for_mfa_alert(ctx: DrillContext, tenant_id: str, user: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not _mfa_alert_of(ctx, tenant_id, user):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def gradual_rollback(out: Path, progress: Callable[[str], None]) -> DrillResult:
    from rollout_bench.drills.gradual_report import judge

    result = DrillResult("gradual-rollback")
    tenants = evidence.spread_tenants()
    with drill_context(result.name, out, progress, week=4, tenants=tenants) as ctx:
        drill_start = time.time()
        steps = _steps(ctx)
        ids = [t.tenant_id for t in tenants]
        first_leaver = min(cohort.expected_leavers(steps[0].before, steps[0].after, ids))
        tenant = next(t for t in tenants if t.tenant_id == first_leaver)
        observations: dict[str, Any] = {"first_leaver": first_leaver}
        with ctx.steady_load() as load:
            time.sleep(4)
            user = evidence.exclusion_that_raises(ctx, tenant, MFA_FOR_ALL)
            excluded = Mutation(first_leaver, "policy_exclude_user", user)
            if user:
                with psycopg.connect(ctx.database_url, autocommit=True) as conn:
                    conn.execute(load_sql("tenants/policy_add_exclude"),
                                 {"user": user, "tenant_id": first_leaver, "policy": MFA_FOR_ALL})
            progress(f"gradual-rollback: {excluded} on {first_leaver} while it is on the new path")
            observations["mutation"] = str(excluded)
            observations["new_path_raised_mfa_alert"] = bool(excluded.user) and _wait_for_mfa_alert(
                ctx, first_leaver, str(excluded.user), WAIT_S)
            for index, step in enumerate(steps):
                _restart(ctx, load, step, index)
                if index == 0 and excluded.user:
                    with psycopg.connect(ctx.database_url, autocommit=True) as conn:
                        conn.execute(load_sql("tenants/policy_remove_exclude"),
                                     {"user": excluded.user, "tenant_id": first_leaver, "policy": MFA_FOR_ALL})
                    observations["lifted_at"] = time.time()
                    progress(f"gradual-rollback: MFA exclusion of {excluded.user} lifted, {first_leaver} on legacy")
                time.sleep(STEP_LOAD_S)
                if index == 1:  # every tenant that left now on legacy: its alerts, by quirk
                    moved = sorted(cohort.new_path_cohort(steps[0].before, ids) - cohort.new_path_cohort(step.after, ids))
                    after = max(step.restarted, float(observations.get("lifted_at", 0.0)))
                    observations["legacy_analysed"] = evidence.wait_for_analysis(ctx, load.jobs, set(moved), "legacy",
                                                                                 after, WAIT_S)
                    observations["on_legacy"] = moved
                    observations["legacy_differences"] = evidence.alert_differences(
                        ctx, [t for t in tenants if t.tenant_id in moved], _truth(tenants, excluded))
                    observations["legacy_changes"] = evidence.alert_changes(ctx, moved, steps[0].started)
                if index == 3:  # back on the new path: stale legacy alerts resolved
                    moved = observations["on_legacy"]
                    observations["unified_analysed"] = evidence.wait_for_analysis(ctx, load.jobs, set(moved),
                                                                                  "unified", step.restarted, WAIT_S)
                    observations["back_differences"] = evidence.alert_differences(
                        ctx, [t for t in tenants if t.tenant_id in moved], _truth(tenants, excluded))
                    observations["back_changes"] = evidence.alert_changes(ctx, moved, step.started)
                step.ended = time.time()
        totals = ctx.drain(load.jobs, DRAIN_S)
        enqueued = evidence.sync_enqueued_at(load.jobs)
        syncs = set(enqueued)
        switches = [(s.started, s.restarted) for s in steps]
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:  # legacy analyzers commit one by one: wait for all four
            verdict = evidence.analyses_per_sync(evidence.analyses(ctx), syncs, switches, enqueued)
            if not verdict["missing"] and not verdict["partial"]:
                break
            time.sleep(1)
        analyses = evidence.analyses(ctx)
        observations["analyses_per_sync"] = evidence.analyses_per_sync(analyses, syncs, switches, enqueued)
        observations["job_runs"] = [(str(k), str(t), str(p), float(at))
                                    for k, t, p, at in ctx.query("drills/job_runs_between", (drill_start - 60, time.time()))]
        observations["analyses"] = analyses
        observations["duplicates"] = ctx.query("drills/active_alert_duplicates")
        observations["handover_log"] = evidence.handover_log_lines(out / "logs", drill_start)
        if excluded.user:
            observations["stuck_alert_resolved_by"] = [str(by) for _t, by, at in ctx.query(
                "drills/alert_resolutions_of_entity", (first_leaver, excluded.user, list(ALERT_TYPES_OF_RULE_SET["mfa"])))
                if float(at) >= steps[3].started]
        common_checks(result, ctx, totals, load, (steps[0].started, steps[-1].restarted))
        judge(result, ctx, steps, load, totals, observations)
    return result


def _truth(tenants: list[Any], excluded: Any) -> dict[str, list[Any]]:
    """Planted findings after the drill's mutations (the exclusion, then its lifting)."""
    mutations = [excluded.to_dict(), {**excluded.to_dict(), "kind": "policy_include_user"}] if excluded.user else []
    return {t.tenant_id: expected_after(t, mutations) for t in tenants}


__all__ = ["PLAN_SWITCH_S", "Step", "gradual_rollback"]
