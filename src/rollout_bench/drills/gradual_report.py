"""The gates of the gradual-rollback drill, from what it observed: per step the cohort
(expected from the bucket hash against job_runs and analysis_runs), the switch time against
the plan's 5 minutes and the hand-overs; then analyses per sync, and the alerts of the
tenants that went to legacy and came back, every difference by quirk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rollout_bench.drills import cohort
from rollout_bench.drills.quirk_attribution import MFA_RESOLVE_BUG, UNKNOWN, by_quirk

if TYPE_CHECKING:
    from rollout_bench.collect.records import JobTotals
    from rollout_bench.drills.base import DrillContext, DrillResult
    from rollout_bench.drills.gradual import Step
    from rollout_bench.drills.load import SteadyLoad


def _judge_step(result: DrillResult, ctx: DrillContext, step: Step, until: float, load: SteadyLoad,
                observations: dict[str, Any]) -> dict[str, Any]:
    from rollout_bench.drills.gradual import PLAN_SWITCH_S

    ids = [t.tenant_id for t in ctx.tenants]
    before, after = cohort.new_path_cohort(step.before, ids), cohort.new_path_cohort(step.after, ids)
    expected_left = cohort.expected_leavers(step.before, step.after, ids)
    window = {str(j["job_key"]): float(j["at"]) for j in load.jobs  # routed after the switch (drills/load.py)
              if step.restarted <= float(j.get("routed_at", j["at"])) < step.ended
              and not str(j["job_key"]).startswith("drill-handover-")}
    syncs = {key.split(":")[0] for key in window}
    runs = observations["job_runs"]
    seen = cohort.observe(runs, window, step.restarted,
                          [(t, s, p, at) for t, s, p, _a, at in observations["analyses"]], syncs, until)
    observed = seen.on_new_path()
    active = set(seen.job_paths)
    left, joined = sorted((before & active) - observed), sorted(observed - before)
    moved = {t: "legacy" for t in before - after} | {t: "unified" for t in after - before}
    enqueued_at = {str(j["job_key"]): float(j["at"]) for j in load.jobs}
    new_jobs = [r for r in runs if step.started <= enqueued_at.get(r[0], 0.0) < step.ended and r[3] < until]
    switch = cohort.switch_time_s(new_jobs, moved, step.started) if moved else 0.0
    paths = {key: path for key, _t, path, _s in runs}
    handed = [k for k in step.handover_keys if paths.get(k) == "legacy"]
    name = step.label
    result.check(f"{name}: tenants with new jobs in the step", f"all {len(ids)}", len(active), len(active) == len(ids))
    result.check(f"{name}: new-path cohort after the switch (job_runs + analysis_runs)", f"== {sorted(after)}",
                 sorted(observed), observed == after)
    result.check(f"{name}: tenants that left", f"== {sorted(expected_left)} (bucket / list rule)", left,
                 set(left) == expected_left == before - after)
    if step.after.percentage is not None and step.before.percentage is not None and not step.after.bullmq_tenants \
            and step.after.percentage < step.before.percentage:
        result.check(f"{name}: tenants that joined while lowering", "none", joined or "none", not joined)
    else:
        result.check(f"{name}: tenants that joined", f"== {sorted(after - before)}", joined,
                     set(joined) == after - before)
    result.check(f"{name}: tenants whose new jobs took both paths", "none", seen.mixed() or "none", not seen.mixed())
    result.check(f"{name}: every new job of a moved tenant on its new path within", f"< {PLAN_SWITCH_S:g} s",
                 switch, switch is not None and switch < PLAN_SWITCH_S)
    result.check(f"{name}: jobs left on BullMQ for leaving tenants handed over to legacy",
                 f"== {len(step.handover_keys)}", len(handed), len(handed) == len(step.handover_keys))
    mixed_detail = {t: {"jobs": sorted({(r[2], r[0]) for r in runs if r[1] == t and r[0] in window}, reverse=True)[:6],
                        "analyses": sorted({(p, a, s_) for t_, s_, p, a, _ in observations["analyses"]
                                            if t_ == t and s_ in syncs}, reverse=True)[:6]} for t in seen.mixed()}
    return {"step": name, "mixed_detail": mixed_detail, "moved": {t: {"bucket": cohort.buckets([t])[t], "to": p} for t, p in sorted(moved.items())},
            "cohort_after": cohort.buckets(after), "restart_s": round(step.restarted - step.started, 2),
            "switch_s": switch, "handed_over": len(handed)}


def judge(result: DrillResult, ctx: DrillContext, steps: list[Step], load: SteadyLoad, totals: JobTotals,
          observations: dict[str, Any]) -> None:
    untils = [s.started for s in steps[1:]] + [float("inf")]
    per_step = [_judge_step(result, ctx, step, until, load, observations) for step, until in zip(steps, untils)]
    handover_keys = {k for s in steps for k in s.handover_keys}
    paths = {key: path for key, _t, path, _s in observations["job_runs"]}
    handed_total = sum(1 for j in load.jobs if j["path"] == "unified" and paths.get(str(j["job_key"])) == "legacy")
    logged = observations["handover_log"]
    result.check("jobs lost across the switches", "== 0", totals.lost, totals.lost == 0)
    result.check("hand-overs: worker log lines (inserted) == BullMQ jobs that ran on legacy", f"== {handed_total}",
                 logged["inserted"], logged["inserted"] == handed_total and handed_total >= len(handover_keys) > 0)
    per_sync = observations["analyses_per_sync"]
    syncs = sum(v for k, v in per_sync.items() if k != "examples")
    not_once = {k: v for k, v in per_sync.items() if k != "once" and v}  # counts by kind, and examples
    settled = per_sync["once"] + per_sync["in_flight_at_switch"]
    result.check("syncs analysed exactly once (one path; all four legacy analyzers once, or unified once), "
                 "or analysed while in flight at a switch (counted, shapes in the examples)",
                 f"== {syncs}", f"{settled} {not_once}" if not_once else settled, settled == syncs)
    dupes = observations["duplicates"]
    result.check("active alerts per (entity, type, subject) > 1", "== 0", len(dupes), not dupes)
    legacy_diffs, back_diffs = observations["legacy_differences"], observations["back_differences"]
    unknown = [d.to_dict() for d in legacy_diffs if UNKNOWN in d.quirks]
    first = observations["first_leaver"]
    mfa_bug = [d for d in legacy_diffs if MFA_RESOLVE_BUG in d.quirks]
    result.check("new path raised the MFA alert of the exclusion before the switch", "yes",
                 observations["new_path_raised_mfa_alert"], observations["new_path_raised_mfa_alert"])
    result.check("moved tenants analysed by legacy after the switch", "all",
                 observations["legacy_analysed"], all(observations["legacy_analysed"].values()))
    legacy_writes = observations["legacy_changes"].get("legacy-alert-manager", {})
    result.check("legacy alert manager updated/resolved the moved tenants' alerts", "> 0 changes", legacy_writes,
                 sum(legacy_writes.values()) > 0)
    result.check("alert differences on legacy attributed to no known quirk", "== 0", unknown or 0, not unknown)
    result.check(f"{MFA_RESOLVE_BUG}: lifted exclusion's MFA alert kept active by legacy ({first})", ">= 1",
                 len(mfa_bug), any(d.tenant_id == first for d in mfa_bug))
    result.check("moved tenants analysed by the new path after coming back", "all",
                 observations["unified_analysed"], all(observations["unified_analysed"].values()))
    result.check("alert differences after coming back (new path resolves stale legacy alerts)", "== 0",
                 [d.to_dict() for d in back_diffs] or 0, not back_diffs)
    resolved_by = observations.get("stuck_alert_resolved_by", [])
    result.check("the MFA alert legacy kept, resolved by the new path after coming back", "unified-alert-manager",
                 resolved_by or "not resolved", "unified-alert-manager" in resolved_by)
    result.figures.update({
        "tenants": cohort.buckets(t.tenant_id for t in ctx.tenants), "steps": per_step,
        "hand_overs": {"total": handed_total, "queued_while_no_worker": len(handover_keys), "worker_log": logged},
        "analyses_per_sync": per_sync, "mutation": observations["mutation"],
        "legacy_alert_differences_by_quirk": by_quirk(legacy_diffs),
        "legacy_alert_differences": [d.to_dict() for d in legacy_diffs],
        "legacy_alert_changes": observations["legacy_changes"], "back_alert_changes": observations["back_changes"],
        "by_path": totals.by_path})
