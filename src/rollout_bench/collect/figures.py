"""Turns what a run recorded into the summary's figures (docs/architecture.md, summary.json)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from msp_pipeline.model import Finding
from rollout_bench.collect.histograms import from_values, summarize
from rollout_bench.collect.records import PATHS, AnalysisRow, JobTotals, accuracy

# Statements the unified path issues outside analyses (queue hand-over, worker book-keeping).
NON_ANALYSIS_STATEMENTS = frozenset({"unified/handover_scheduled_job", "unified/previous_attempt_finished",
                                     "unified/repeatable_sources"})
ANALYSIS_PREFIXES = {"unified": "unified/", "legacy": "legacy/analyzers/"}


def latency_summary(values_by_path: Mapping[str, Sequence[float]], unit: str) -> dict[str, Any]:
    return {path: summarize(from_values(values_by_path.get(path, []), unit), unit) for path in PATHS}


def count_summary(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "min": None, "median": None, "max": None}
    return {"count": len(values), "min": min(values), "median": statistics.median(values), "max": max(values)}


def analysis_samples(rows: Iterable[AnalysisRow]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {p: [] for p in PATHS}
    for row in rows:
        out[row.path].append(row.analysis_s)
    return out


def queries_samples(rows: Iterable[AnalysisRow]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {p: [] for p in PATHS}
    for row in rows:
        out[row.path].append(row.queries)
    return out


def queries_check(counted_by_path: Mapping[str, int], statement_calls: Mapping[str, int] | None) -> dict[str, Any]:
    """Per path: statements counted per analysis against pg_stat_statements' calls for the
    same statements over the run (they must agree within 5 %)."""
    out: dict[str, Any] = {"pg_stat_statements": statement_calls is not None}
    for path in PATHS:
        counted = int(counted_by_path.get(path, 0))
        if statement_calls is None or counted == 0:
            out[path] = {"counted": counted, "pg_stat_statements": None, "deviation": None}
            continue
        prefix = ANALYSIS_PREFIXES[path]
        seen = sum(calls for name, calls in statement_calls.items()
                   if name.startswith(prefix) and name not in NON_ANALYSIS_STATEMENTS)
        out[path] = {"counted": counted, "pg_stat_statements": seen,
                     "deviation": round(abs(seen - counted) / counted, 4)}
    return out


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+|NaN)$")


def metric_total(texts: Iterable[str], name: str) -> float:
    """Sum of one Prometheus metric's samples over several /metrics scrapes."""
    total = 0.0
    for text in texts:
        for line in text.splitlines():
            match = _SAMPLE.match(line.strip())
            if match and match.group(1) == name and match.group(3) != "NaN":
                total += float(match.group(3))
    return total


def errors_by_path(totals: JobTotals) -> dict[str, dict[str, float]]:
    out = {}
    for path in PATHS:
        counts = totals.by_path.get(path, {})
        jobs = int(counts.get("enqueued", 0))
        bad = int(counts.get("failed", 0)) + int(counts.get("lost", 0))
        out[path] = {"jobs": jobs, "failed": bad, "rate": round(bad / jobs, 6) if jobs else 0.0}
    return out


def accuracy_by_path(expected: Mapping[str, list[Finding]], found: Mapping[str, list[Finding]],
                     tenants_by_path: Mapping[str, Iterable[str]]) -> dict[str, dict[str, int]]:
    return {path: accuracy({t: expected[t] for t in tenants if t in expected}, found)
            for path, tenants in tenants_by_path.items()}


def cohort(tenant_ids: Sequence[str], on_new_path: Mapping[str, bool], jobs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    by_path = Counter(str(job["path"]) for job in jobs)
    total_jobs = sum(by_path.values())
    new_tenants = sorted(t for t in tenant_ids if on_new_path[t])
    return {
        "tenants": {"unified": len(new_tenants), "legacy": len(tenant_ids) - len(new_tenants)},
        "tenant_share_unified": round(len(new_tenants) / len(tenant_ids), 4) if tenant_ids else 0.0,
        "jobs": dict(by_path),
        "job_share_unified": round(by_path.get("unified", 0) / total_jobs, 4) if total_jobs else 0.0,
        "unified_tenant_ids": new_tenants[:50],
    }


def throughput_series(started_at_s: Sequence[float]) -> dict[str, list[float]]:
    """Job starts per second over the run (seconds from the first start)."""
    if not started_at_s:
        return {"elapsed_s": [], "jobs_per_s": []}
    first = min(started_at_s)
    buckets = Counter(int(t - first) for t in started_at_s)
    span = max(buckets) + 1
    return {"elapsed_s": list(range(span)), "jobs_per_s": [float(buckets.get(i, 0)) for i in range(span)]}
