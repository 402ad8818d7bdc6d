"""Was every sync the load enqueued analysed, exactly once, on the path it was routed to?

A sync is one tenant's arrival (a job per entity type, one sync id). On the new path the
unified analyzer must commit one analysis for it; on the legacy path each of the four
analyzers one. A sync never analysed counts as such (its tenant's findings then count as
missing in the accuracy figures); one analysed twice is a duplicate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from rollout_bench.collect.records import PATHS, AnalysisRow

ANALYZERS = {"unified": ("unified",), "legacy": ("mfa", "policy", "license", "stale")}
MAX_EXAMPLES = 10


def sync_id_of(job_key: str) -> str:
    """'{syncId}:{entityType}:{batchNumber}' -> syncId (sync ids hold no ':')."""
    return job_key.split(":", 1)[0]


def sync_counts(jobs: Iterable[Mapping[str, Any]], rows: Iterable[AnalysisRow]) -> dict[str, dict[str, Any]]:
    routed: dict[str, set[tuple[str, str]]] = {p: set() for p in PATHS}
    for job in jobs:
        routed[str(job["path"])].add((str(job["tenant_id"]), sync_id_of(str(job["job_key"]))))
    analysed: Counter[tuple[str, str, str, str]] = Counter(
        (row.path, row.analyzer, row.tenant_id, row.sync_id) for row in rows)
    out: dict[str, dict[str, Any]] = {}
    for path in PATHS:
        once = never = more = 0
        examples: list[dict[str, Any]] = []
        for tenant, sync in sorted(routed[path]):
            runs = {a: analysed[(path, a, tenant, sync)] for a in ANALYZERS[path]}
            if all(n == 1 for n in runs.values()):
                once += 1
                continue
            if all(n == 0 for n in runs.values()):
                never += 1
            else:
                more += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append({"tenant_id": tenant, "sync_id": sync, "analyses": runs})
        syncs = len(routed[path])
        out[path] = {"syncs": syncs, "analysed_once": once, "not_analysed_once": syncs - once, "never": never,
                     "more_than_once": more, "examples": examples}
    return out


def never_analysed_tenants(counts: Mapping[str, Mapping[str, Any]], path: str) -> set[str]:
    return {e["tenant_id"] for e in counts[path]["examples"] if not any(e["analyses"].values())}
