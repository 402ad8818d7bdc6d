"""After the load: collect, build summary.json, judge the gates, write the results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from msp_pipeline.migration import TenantMigration
from rollout_bench.collect import figures as measure
from rollout_bench.collect import records as collect
from rollout_bench.collect.comparison import comparison_figures
from rollout_bench.collect.context import (
    default_release,
    git_sha,
    library_versions,
    machine,
)
from rollout_bench.collect.histograms import encode, from_values, merge, summarize
from rollout_bench.judge.gates import Gate, evaluate_all
from rollout_bench.judge.verdict import decide
from rollout_bench.load import LoadResult
from rollout_bench.load.profiles import LoadProfile
from rollout_bench.load.sampler import QueueDepthSampler
from rollout_bench.load.weeks import WeekScenario
from rollout_bench.results.junit import write_junit
from rollout_bench.results.store import write_json, write_samples
from rollout_bench.results.summary import SCHEMA_VERSION, validate
from rollout_bench.results.table import render
from rollout_bench.safety import redact_obj
from rollout_bench.stack.nats import legacy_analysis_messages
from rollout_bench.tenants import SyntheticTenant


@dataclass
class RunRecord:
    run_id: str
    options: Any
    scenario: WeekScenario
    profile: LoadProfile
    flags: dict[str, str]
    env: dict[str, str]
    started_at: datetime
    tenants: list[SyntheticTenant]
    routing: TenantMigration
    mutable: set[str]
    load: LoadResult
    sampler: QueueDepthSampler
    scrapes: dict[str, str]
    exit_codes: dict[str, int | None]
    stack_mode: str
    nats_url: str


def build_summary(r: RunRecord, conn: psycopg.Connection[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, raw samples by metric and path)."""
    attempts = collect.job_first_attempts(conn)
    job_ms = {p: [ms for path, ms, _ in attempts if path == p] for p in collect.PATHS}
    rows = collect.analyses(conn)
    analysis_s = measure.analysis_samples(rows)
    queries = measure.queries_samples(rows)
    totals = collect.job_totals(conn, r.load.jobs)
    found = collect.active_findings(conn)
    analysed = {p: {row.tenant_id for row in rows if row.path == p} for p in collect.PATHS}
    legacy_full = {t for t in analysed["legacy"]
                   if {row.analyzer for row in rows if row.tenant_id == t and row.path == "legacy"}
                   >= {"mfa", "policy", "license", "stale"}}
    judged = [t for t in r.tenants if t.tenant_id not in r.mutable]
    expected = {t.tenant_id: t.expected_findings for t in judged}
    on_new = {t.tenant_id: r.routing.should_use_unified_analyzer(t.tenant_id) for t in r.tenants}
    by_path = {"unified": [t for t in expected if on_new[t] and t in analysed["unified"]],
               "legacy": [t for t in expected if not on_new[t] and t in legacy_full]}
    accuracy_paths = measure.accuracy_by_path(expected, found, by_path)
    overall = {k: accuracy_paths["unified"][k] + accuracy_paths["legacy"][k] for k in accuracy_paths["unified"]}
    slow = int(measure.metric_total(r.scrapes.values(), "pipeline_slow_queries_total"))
    errors = int(measure.metric_total(r.scrapes.values(), "pipeline_errors_total"))
    client = {name: summarize(merge([text]), "ms") for name, text in r.load.histograms.items()}
    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "run_id": r.run_id,
        "release": r.options.release or default_release(),
        "git_sha": git_sha(),
        "week": r.scenario.week,
        "week_title": r.scenario.title,
        "profile": r.profile.name,
        "stack": r.stack_mode,
        "machine": machine(),
        "flags": r.flags,
        "settings_shortened": r.profile.shortened_settings,
        "seed": r.options.seed,
        "started_at": r.started_at.isoformat(),
        "duration_s": round((datetime.now(timezone.utc) - r.started_at).total_seconds(), 1),
        "libraries": library_versions(),
        "metrics": {
            "job_latency_ms": measure.latency_summary(job_ms, "ms"),
            "analysis_s": measure.latency_summary(analysis_s, "s"),
            "queries_per_analysis": {p: measure.count_summary(queries[p]) for p in collect.PATHS},
            "rows_read_per_analysis": {p: measure.count_summary([row.rows_read for row in rows if row.path == p])
                                       for p in collect.PATHS},
            "slow_queries": slow,
            "errors": errors + totals.failed,
            "client": client,
        },
        "jobs": {"enqueued": totals.enqueued, "completed": totals.completed, "failed": totals.failed,
                 "lost": totals.lost, "duplicated": totals.duplicated,
                 "success_rate": round(totals.completed / totals.enqueued, 6) if totals.enqueued else 0.0,
                 "by_path": totals.by_path, "lost_keys_sample": totals.lost_keys[:20]},
        "errors_by_path": measure.errors_by_path(totals),
        "accuracy": overall,
        "accuracy_by_path": accuracy_paths,
        "accuracy_scope": {"tenants_judged": len(judged), "tenants_mutated": len(r.mutable),
                           "unified_tenants_analysed": len(by_path["unified"]),
                           "legacy_tenants_analysed": len(by_path["legacy"])},
        "comparison": {**comparison_figures(conn), **collect.comparison_totals(rows)},
        "queries_check": measure.queries_check(collect.analysis_queries_by_path(conn), collect.statement_calls(conn)),
        "cohort": measure.cohort([t.tenant_id for t in r.tenants], on_new, r.load.jobs),
        "legacy_touch": {"scheduled_jobs_rows": collect.scheduled_jobs_rows(conn),
                         "legacy_analyses": sum(1 for row in rows if row.path == "legacy"),
                         "legacy_subject_messages": legacy_analysis_messages(r.nats_url)},
        "isolation": {**collect.cross_tenant_rows(conn)},
        "infrastructure": {"redis_failures": r.sampler.redis_failures, "process_exit_codes": r.exit_codes},
        "series": {"queue_depth": r.sampler.series(),
                   "throughput": measure.throughput_series([t for _, _, t in attempts])},
        "tenant_sizes": collect.tenant_sizes(conn),
        "load": {"requests": r.load.request_totals(), "counts": r.load.counts, "locust_exit": r.load.locust_exit_code},
    }
    summary["isolation"]["cross_tenant_rows"] = sum(v for k, v in summary["isolation"].items())
    samples = {"job_latency_ms": job_ms, "analysis_s": analysis_s,
               "queries_per_analysis": {p: [float(q) for q in queries[p]] for p in collect.PATHS},
               "queries_vs_size": {p: [[float(summary["tenant_sizes"].get(row.tenant_id, 0)), float(row.queries)]
                                       for row in rows if row.path == p] for p in collect.PATHS}}
    return summary, samples


def finish_run(r: RunRecord, conn: psycopg.Connection[Any], gates: list[Gate], out: Path,
               progress: Callable[[str], None]) -> int:
    summary, samples = build_summary(r, conn)
    results = evaluate_all(gates, summary, r.scenario.week)
    verdict = decide(results)
    summary["gates"] = [result.to_dict() for result in results]
    summary["verdict"] = verdict.verdict
    summary["reasons"] = verdict.reasons
    summary = redact_obj(summary)
    problems = validate(summary)
    if problems:
        raise RuntimeError(f"summary.json does not match its schema: {problems[:3]}")
    write_json(out / "summary.json", summary)
    write_samples(out, samples)
    write_json(out / "histograms.json", {
        "job_latency_ms": {p: encode(from_values(samples["job_latency_ms"][p], "ms")) for p in collect.PATHS},
        "analysis_s": {p: encode(from_values(samples["analysis_s"][p], "s")) for p in collect.PATHS},
        "client": r.load.histograms})
    write_junit(out / "junit.xml", f"rollout-gate-week-{r.scenario.week}", results)
    from rollout_bench.report import write_report

    write_report(out, summary, samples, gates)
    print(render(results, verdict))
    print(f"\nresults: {out}/ (summary.json, report.html, junit.xml)")
    progress(f"verdict {verdict.verdict}")
    return verdict.exit_code


__all__ = ["RunRecord", "build_summary", "finish_run"]
