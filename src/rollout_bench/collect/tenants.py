"""One row per tenant for the report: size, path, jobs and their latency, analyses,
expected / found / missing / extra findings and comparison mismatches, worst p99 first."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from msp_pipeline.model import Finding
from rollout_bench.collect.bounds import nearest_rank
from rollout_bench.collect.records import AnalysisRow, FirstAttempt, accuracy


def _quantile(values: Sequence[float], q: float) -> float | None:
    value = nearest_rank(values, q)
    return None if value is None else round(value, 2)


def tenant_rows(jobs: Iterable[Mapping[str, Any]], attempts: Iterable[FirstAttempt], rows: Iterable[AnalysisRow],
                expected: Mapping[str, list[Finding]], found: Mapping[str, list[Finding]],
                sizes: Mapping[str, int], on_new_path: Mapping[str, bool]) -> list[dict[str, Any]]:
    tenant_of = {str(job["job_key"]): str(job["tenant_id"]) for job in jobs}
    job_count = Counter(tenant_of.values())
    latencies: dict[str, list[float]] = defaultdict(list)
    for attempt in attempts:
        if attempt.arrival and attempt.job_key in tenant_of:
            latencies[tenant_of[attempt.job_key]].append(attempt.latency_ms)
    analyses: Counter[str] = Counter()
    mismatches: Counter[str] = Counter()
    for row in rows:
        analyses[row.tenant_id] += 1
        if row.comparison:
            mismatches[row.tenant_id] += int(row.comparison.get("mismatched", 0))
    out = []
    for tenant_id in sorted(expected):
        judged = accuracy({tenant_id: expected[tenant_id]}, found)
        out.append({"tenant_id": tenant_id, "identities": sizes.get(tenant_id, 0),
                    "path": "unified" if on_new_path.get(tenant_id) else "legacy", "jobs": job_count[tenant_id],
                    "job_latency_p50_ms": _quantile(latencies[tenant_id], 0.50),
                    "job_latency_p99_ms": _quantile(latencies[tenant_id], 0.99),
                    "analyses": analyses[tenant_id], **judged, "mismatches": mismatches[tenant_id]})
    return sorted(out, key=lambda r: -(r["job_latency_p99_ms"] or -1))
