"""What the gradual-rollback drill reads back: the tenants it picks (spread over the
buckets), analyses per drill sync, waits for a tenant's next analysis on a path, its
alerts against the planted truth with every difference attributed, and hand-over counts."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from msp_pipeline.migration import bucket_of
from msp_pipeline.model import Finding
from msp_pipeline.rules import RULE_SETS, Quirks, all_findings
from rollout_bench.collect import records as collect
from rollout_bench.drills.base import DrillContext
from rollout_bench.drills.quirk_attribution import AlertDifference, attribute, snapshot_from_rows
from rollout_bench.tenants import SyntheticTenant, generate_tenant, load_profile
from rollout_bench.tenants.generator import tenant_id_for

SEED = 7


def spread_tenants(low: int = 3, middle: int = 2, high: int = 1, seed: int = SEED,
                   max_index: int = 2000) -> list[SyntheticTenant]:
    """The first tenants (by index) with buckets in [0, 25), [25, 50) and [50, 100), so the
    moves of the drill have tenants to move; deterministic for a seed."""
    wanted = {"low": low, "middle": middle, "high": high}
    picked: dict[str, list[int]] = defaultdict(list)
    profile = load_profile("small")
    for index in range(max_index):
        bucket = bucket_of(tenant_id_for(profile.name, seed, index))
        band = "low" if bucket < 25 else "middle" if bucket < 50 else "high"
        if len(picked[band]) < wanted[band]:
            picked[band].append(index)
        if all(len(picked[b]) == n for b, n in wanted.items()):
            break
    else:
        raise ValueError(f"seed {seed}: fewer than {wanted} tenants per bucket band in {max_index} indices")
    return [generate_tenant(profile, seed, i) for band in ("low", "middle", "high") for i in picked[band]]


def analyses(ctx: DrillContext) -> list[tuple[str, str, str, str, float]]:
    """(tenant, sync, path, analyzer, committed at) of every drill sync."""
    return [(str(t), str(s), str(p), str(a), float(at)) for t, s, p, a, at in ctx.query("drills/analyses_of_drill_syncs")]


def sync_enqueued_at(jobs: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for job in jobs:
        sync = str(job["job_key"]).split(":")[0]
        out[sync] = min(float(job["at"]), out.get(sync, float(job["at"])))
    return out


def analysis_complete(rows: list[tuple[str, str, str, str, float]], sync: str, path: str) -> bool:
    analyzers = {a for _, s, p, a, _ in rows if s == sync and p == path}
    return bool(analyzers) if path == "unified" else set(RULE_SETS) <= analyzers


def wait_for_analysis(ctx: DrillContext, jobs: list[dict[str, Any]], tenants: set[str], path: str,
                      after: float, timeout_s: float) -> dict[str, str | None]:
    """Waits until each tenant has a sync enqueued after `after` fully analysed on `path`;
    returns tenant -> that sync (None: not within the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        enqueued = sync_enqueued_at(jobs)
        rows = analyses(ctx)
        tenant_of = {s: t for t, s, *_ in rows}
        found: dict[str, str | None] = {t: None for t in tenants}
        for sync, at in sorted(enqueued.items(), key=lambda item: item[1]):
            tenant = tenant_of.get(sync)
            if at >= after and tenant in found and found[tenant] is None and analysis_complete(rows, sync, path):
                found[tenant] = sync
        if all(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(1.0)


def analyses_per_sync(rows: list[tuple[str, str, str, str, float]], syncs: set[str],
                      switches: list[tuple[float, float]] | None = None,
                      enqueued: dict[str, float] | None = None) -> dict[str, Any]:
    """Syncs analysed not exactly once: 'missing' (no analysis), 'both_paths', 'twice' (an
    analyzer of one path ran twice), 'partial' (legacy without all four analyzers), 'once'.

    `switches`: (stop began, restarted) of each restart with new flags; `enqueued`: when each
    sync's first job was enqueued. A sync in flight at a switch (enqueued before the restart,
    an analysis after the stop began) that was analysed but not exactly once is counted as
    'in_flight_at_switch' instead, with its shape among the examples: the pipeline makes no
    per-sync promise there. Shapes seen here (in 2 of 5 drills): a stopping legacy analyzer
    runs what it is still debouncing (flush on stop) and the restarted pipeline analyses the
    sync again on the new path, or legacy again; the restarted unified analyzer's settle loop
    finishes a sync it tracked before the switch while legacy analyses the handed-over rest;
    the flushed legacy analyzers were only those whose trigger types had arrived (partial).
    What the pipeline does promise there, the tenant's next sync analysed completely on its
    new path, is the drill's own check per step."""
    per: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    for _, sync, path, analyzer, at in rows:
        per[sync][(path, analyzer)] += 1
        times[sync].append(at)
    verdict: Counter[str] = Counter()
    examples: list[str] = []
    for sync in sorted(syncs):
        runs = per.get(sync)
        if not runs:
            verdict["missing"] += 1
            examples.append(f"{sync}: not analysed")
            continue
        if len({p for p, _ in runs}) > 1:
            kind, example = "both_paths", f"{sync}: {sorted(runs)}"
        elif max(runs.values()) > 1:
            kind, example = "twice", f"{sync}: {sorted(runs.items())}"
        elif next(iter(runs))[0] == "legacy" and {a for _, a in runs} != set(RULE_SETS):
            kind, example = "partial", f"{sync}: {sorted(a for _, a in runs)}"
        else:
            verdict["once"] += 1
            continue
        first = min(times[sync] + [(enqueued or {}).get(sync, float("inf"))])
        if any(first <= restarted and max(times[sync]) > began for began, restarted in switches or ()):
            kind, example = "in_flight_at_switch", f"{example} ({kind}, in flight at a switch)"
        verdict[kind] += 1
        examples.append(example)
    out: dict[str, Any] = {k: verdict[k] for k in ("once", "in_flight_at_switch", "missing", "both_paths", "twice",
                                                  "partial")}
    return {**out, "examples": examples[:5]} if examples else out


def alert_differences(ctx: DrillContext, tenants: list[SyntheticTenant],
                      truth: dict[str, list[Finding]]) -> list[AlertDifference]:
    """Active alerts of `tenants` against `truth`, every difference attributed."""
    with psycopg.connect(ctx.database_url) as conn:
        active = collect.active_findings(conn)
    out: list[AlertDifference] = []
    for tenant in tenants:
        scope = {"tenant_id": tenant.tenant_id, "data_source_id": tenant.data_source_id}
        snapshot = snapshot_from_rows(tenant.tenant_id, ctx.query("drills/tenant_entities", scope),
                                      ctx.query("drills/tenant_memberships", scope))
        out += attribute(tenant.tenant_id, truth[tenant.tenant_id], active.get(tenant.tenant_id, []), snapshot,
                         datetime.now(timezone.utc))
    return out


def handover_log_lines(log_dir: Path, since: float) -> dict[str, int]:
    """Hand-over lines of the worker logs since `since`: inserted (a scheduled_jobs row
    written) and already there (a re-run)."""
    counts = {"inserted": 0, "already_there": 0}
    for path in sorted(log_dir.glob("pipeline-worker-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"hand-over"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("context") == "hand-over" and float(record.get("ts", 0)) >= since:
                counts["inserted" if int(record.get("inserted") or 0) else "already_there"] += 1
    return counts


def alert_changes(ctx: DrillContext, tenant_ids: list[str], since: float) -> dict[str, dict[str, int]]:
    """Alert changes of the tenants since `since`, per alert manager: created/updated/resolved."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for _tenant, manager, change, n in ctx.query("drills/alert_changes_since", (tenant_ids, since)):
        out[str(manager)][str(change)] = out[str(manager)].get(str(change), 0) + int(n)
    return dict(out)


def exclusion_that_raises(ctx: DrillContext, tenant: SyntheticTenant, policy: str) -> str | None:
    """A healthy member whose exclusion from `policy` makes the correct rules raise
    mfa_not_enforced (no other MFA policy covers them, by group either), per the tenant's
    synced entities; None when no candidate does."""
    scope = {"tenant_id": tenant.tenant_id, "data_source_id": tenant.data_source_id}
    snapshot = snapshot_from_rows(tenant.tenant_id, ctx.query("drills/tenant_entities", scope),
                                  ctx.query("drills/tenant_memberships", scope))
    now = datetime.now(timezone.utc)
    for user in tenant.mutation_candidates()["healthy"]:
        changed = {key: (dataclasses.replace(p, exclude_users=p.exclude_users | {user}) if p.name == policy else p)
                   for key, p in snapshot.policies.items()}
        trial = dataclasses.replace(snapshot, policies=changed)
        if any(f.entity_external_id == user and f.alert_type == "mfa_not_enforced"
               for f in all_findings(trial, now, Quirks())):
            return user
    return None
