"""What a gradual rollback must do to the new-path cohort, and what the pipeline did: the
expected cohort from `TenantMigration` (the seed's bucket hash), the cohort observed in
job_runs and analysis_runs after a switch, and the time until every new job of a moved
tenant ran on its new path."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from msp_pipeline.migration import TenantMigration, bucket_of

JobRun = tuple[str, str, str, float]  # (job key, tenant id, path, started at, epoch s)


def new_path_cohort(routing: TenantMigration, tenant_ids: Iterable[str]) -> set[str]:
    """Tenants whose jobs go to BullMQ and whose syncs the unified analyzer analyses."""
    return {t for t in tenant_ids if routing.should_use_bullmq(t) and routing.should_use_unified_analyzer(t)}


def expected_leavers(before: TenantMigration, after: TenantMigration, tenant_ids: Iterable[str]) -> set[str]:
    """The issue's rule, stated without the routing code: lowering the percentage removes the
    tenants whose bucket lies in [new, old); an explicit list removes everyone not listed."""
    ids = list(tenant_ids)
    cohort = new_path_cohort(before, ids)
    if after.bullmq_tenants:
        return {t for t in cohort if t not in after.bullmq_tenants}
    low, high = after.percentage or 0, before.percentage if before.percentage is not None else 100
    return {t for t in cohort if low <= bucket_of(t) < high}


@dataclass
class ObservedCohort:
    """Per tenant, the paths its jobs (and analyses) took after a switch."""

    job_paths: dict[str, set[str]] = field(default_factory=dict)
    analysis_paths: dict[str, set[str]] = field(default_factory=dict)

    def on_new_path(self) -> set[str]:
        """Tenants whose every post-switch job and analysis ran on the new path."""
        tenants = set(self.job_paths) | set(self.analysis_paths)
        return {t for t in tenants if self.job_paths.get(t) == {"unified"}
                and self.analysis_paths.get(t, {"unified"}) == {"unified"}}

    def mixed(self) -> dict[str, list[str]]:
        """Tenants whose post-switch jobs or analyses took both paths (must be none)."""
        out = {}
        for tenant in set(self.job_paths) | set(self.analysis_paths):
            paths = self.job_paths.get(tenant, set()) | self.analysis_paths.get(tenant, set())
            if len(paths) > 1:
                out[tenant] = sorted(paths)
        return out


def observe(job_runs: Iterable[JobRun], enqueued_after: Mapping[str, float], switched_at: float,
            analyses: Iterable[tuple[str, str, str, float]], syncs_after: set[str],
            until: float = float("inf")) -> ObservedCohort:
    """job_runs of the jobs the load enqueued after the switch (`enqueued_after`: job key ->
    enqueue time) and analyses (tenant, sync, path, committed at) of syncs enqueued after it,
    both while the switch's flags were in force (started or committed before `until`, the
    next restart: a sync analysed after it is routed by the next flags)."""
    observed = ObservedCohort(defaultdict(set), defaultdict(set))
    for key, tenant, path, started in job_runs:
        if enqueued_after.get(key, 0.0) >= switched_at and started < until:
            observed.job_paths[tenant].add(path)
    for tenant, sync_id, path, committed in analyses:
        if sync_id in syncs_after and committed < until:
            observed.analysis_paths[tenant].add(path)
    observed.job_paths, observed.analysis_paths = dict(observed.job_paths), dict(observed.analysis_paths)
    return observed


def switch_time_s(job_runs: Sequence[JobRun], moved: Mapping[str, str], started: float) -> float | None:
    """Seconds from `started` (the restart began) until every new job of a moved tenant runs on
    its new path (`moved`: tenant -> new path): the later of the last start on an old path
    and the first start on the new one; None when a moved tenant never ran on its new path."""
    last_old, first_new = started, {}
    for _key, tenant, path, at in job_runs:
        if tenant not in moved or at < started:
            continue
        if path == moved[tenant]:
            first_new[tenant] = min(at, first_new.get(tenant, at))
        else:
            last_old = max(last_old, at)
    if set(first_new) != set(moved):
        return None
    return round(max(last_old, *first_new.values()) - started, 2)


def buckets(tenant_ids: Iterable[str]) -> dict[str, int]:
    return {t: bucket_of(t) for t in sorted(tenant_ids)}
