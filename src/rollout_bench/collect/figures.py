"""Turns what a run recorded into the summary's figures (summary.schema.json)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from msp_pipeline.model import Finding
from rollout_bench.collect.bounds import quantile_bound
from rollout_bench.collect.histograms import from_values, summarize
from rollout_bench.collect.records import PATHS, AnalysisRow, JobTotals, accuracy

BOUND_QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def latency_figures(values: Sequence[float], unit: str) -> dict[str, Any]:
    """HDR summary (count, p50, p95, p99, max) of the non-negative values, the count of
    negative ones (clocks that disagree; never clamped into the histogram), the mean, and
    95 % confidence bounds of each percentile from the raw values."""
    kept = [v for v in values if v >= 0]
    figures: dict[str, Any] = summarize(from_values(kept, unit), unit)
    figures["mean"] = round(statistics.fmean(kept), 3) if kept else None
    figures["negative"] = len(values) - len(kept)
    figures["bounds"] = {name: quantile_bound(kept, q).to_dict() for name, q in BOUND_QUANTILES.items()}
    return figures


def latency_summary(values_by_path: Mapping[str, Sequence[float]], unit: str) -> dict[str, Any]:
    return {path: latency_figures(values_by_path.get(path, []), unit) for path in PATHS}


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
        done = int(counts.get("completed", 0))
        out[path] = {"jobs": jobs, "failed": bad, "rate": round(bad / jobs, 6) if jobs else 0.0,
                     "success_rate": round(done / jobs, 6) if jobs else None}
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
