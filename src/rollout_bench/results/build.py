"""After the load: collect, build summary.json and the raw samples, write them, then judge
the gates and write the verdict, the junit file and the report.

The summary and samples are on disk before any gate is judged, so a gate that cannot be
evaluated loses nothing (it is a result, ERROR -> INCONCLUSIVE)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from msp_pipeline.migration import TenantMigration
from rollout_bench.collect import figures as measure
from rollout_bench.collect import records as collect
from rollout_bench.collect.backlog import queued_jobs
from rollout_bench.collect.clock import ClockOffset
from rollout_bench.collect.comparison import comparison_figures
from rollout_bench.collect.context import default_release, git_sha, library_versions, machine
from rollout_bench.collect.histograms import encode, from_values, merge, summarize
from rollout_bench.collect.legacy_baseline import legacy_baseline, legacy_durations_s
from rollout_bench.collect.logs import log_figures
from rollout_bench.collect.statements import attribute, pipeline_statement_files, queries_check
from rollout_bench.collect.syncs import sync_counts
from rollout_bench.collect.tenants import tenant_rows
from rollout_bench.judge.gates import Gate, evaluate_all
from rollout_bench.judge.verdict import decide
from rollout_bench.load import LoadResult
from rollout_bench.load.cpu import CpuSampler
from rollout_bench.load.production import ProductionModel
from rollout_bench.load.profiles import LoadProfile
from rollout_bench.load.sampler import QueueDepthSampler
from rollout_bench.load.weeks import WeekScenario
from rollout_bench.results.junit import write_junit
from rollout_bench.results.store import write_json, write_samples
from rollout_bench.results.summary import SCHEMA_VERSION, validate
from rollout_bench.results.table import render
from rollout_bench.safety import redact_obj
from rollout_bench.stack.nats import legacy_analysis_messages, subject_counts
from rollout_bench.tenants import SyntheticTenant
from rollout_bench.tenants.replay import expected_after


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
    out: Path
    cpu: CpuSampler | None = None
    clock: dict[str, ClockOffset] = field(default_factory=dict)
    evictions_before: int | None = None
    servers: dict[str, str] = field(default_factory=dict)
    production: ProductionModel | None = None
    phases: dict[str, float] = field(default_factory=dict)  # epoch seconds: load_start, load_end, drain_end
    floor: dict[str, Any] = field(default_factory=dict)  # pipeline.floor.measure_floor
    machine_events: dict[str, Any] | None = None  # load.machine_events.events_between, load start to drain end


def _queries_check(r: RunRecord, conn: psycopg.Connection[Any]) -> dict[str, Any]:
    entries = collect.statement_entries(conn)
    evictions = collect.statement_evictions(conn)
    counted = collect.analysis_queries_by_path(conn)
    if entries is None:
        return queries_check(counted, None, "pg_stat_statements is not loaded in this server")
    if r.evictions_before is not None and evictions is not None and evictions > r.evictions_before:
        why = (f"pg_stat_statements evicted entries during the run ({evictions - r.evictions_before} times; "
               "raise pg_stat_statements.max)")
        return queries_check(counted, None, why)
    return queries_check(counted, attribute(entries, pipeline_statement_files()))


def _accuracy(r: RunRecord, conn: psycopg.Connection[Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Every routed tenant is judged, mutated ones against the plan with their mutations
    replayed; a tenant whose syncs were never analysed has its findings missing."""
    found = collect.active_findings(conn)
    expected = {t.tenant_id: expected_after(t, r.load.mutations) for t in r.tenants}
    on_new = {t.tenant_id: r.routing.should_use_unified_analyzer(t.tenant_id) for t in r.tenants}
    by_path = {"unified": [t for t in expected if on_new[t]], "legacy": [t for t in expected if not on_new[t]]}
    accuracy_paths = measure.accuracy_by_path(expected, found, by_path)
    for path, tenants in by_path.items():
        accuracy_paths[path]["tenants"] = len(tenants)
    overall = {k: accuracy_paths["unified"][k] + accuracy_paths["legacy"][k]
               for k in ("expected", "found", "missing", "extra")}
    mutated = {str(m["tenant_id"]) for m in r.load.mutations}
    scope = {"tenants_judged": len(expected), "tenants_mutated": len(mutated), "mutations": len(r.load.mutations),
             "unified_tenants": len(by_path["unified"]), "legacy_tenants": len(by_path["legacy"])}
    truth = {"expected": expected, "found": found, "on_new_path": on_new}
    return {"accuracy": overall, "accuracy_by_path": accuracy_paths}, scope, truth


def backlog_words(totals: collect.JobTotals, rate: Mapping[str, float | None]) -> list[str]:
    """One sentence per path that did not drain: backlog is a path's capacity, not loss."""
    words = []
    for path, counts in sorted(totals.by_path.items()):
        if counts.get("queued"):
            label = "the new path" if path == "unified" else "legacy (the baseline being replaced)"
            words.append(f"{label} could not carry {rate.get('jobs_per_s')} jobs/s: {counts['queued']} jobs "
                         f"still queued at the end of the drain")
    return words


def _production(r: RunRecord) -> dict[str, Any]:
    """The offered rate as a multiple of the production model's."""
    if r.production is None:
        return {}
    offered = r.load.offered_rate().get("syncs_per_s")
    multiple = None if offered is None else round(offered / r.production.syncs_per_s, 2)
    return {"model": r.production.to_dict(), "multiple": multiple,
            "profile_multiple": r.profile.production_multiple}


def _stream_messages(url: str, namespace: str) -> tuple[int | None, int | None]:
    """(legacy-subject messages, all messages) on the run's stream; None when NATS did not
    answer (then the week-7 gate has no evidence)."""
    try:
        return legacy_analysis_messages(url, namespace), sum(subject_counts(url, ">", namespace).values())
    except (OSError, TimeoutError):  # no evidence, never zero
        return None, None


def build_summary(r: RunRecord, conn: psycopg.Connection[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, raw samples by metric and path)."""
    attempts = collect.job_first_attempts(conn)
    arrivals = [a for a in attempts if a.arrival]
    job_ms = {p: [a.latency_ms for a in arrivals if a.path == p] for p in collect.PATHS}
    next_page_ms = {p: [a.latency_ms for a in attempts if a.next_page and a.path == p] for p in collect.PATHS}
    rows = collect.analyses(conn)
    analysis_s = measure.analysis_samples(rows)
    queries = measure.queries_samples(rows)
    totals = collect.job_totals(conn, r.load.jobs, lambda keys: queued_jobs(conn, r.env["REDIS_URL"],
                                                                            r.env["BULLMQ_PREFIX"], keys))
    accuracy, scope, truth = _accuracy(r, conn)
    sizes = collect.tenant_sizes(conn)
    scraped = {name: text for name, text in r.scrapes.items() if not text.startswith("# unreachable")}
    all_scraped = len(scraped) == len(r.exit_codes) and len(scraped) > 0
    slow = int(measure.metric_total(scraped.values(), "pipeline_slow_queries_total")) if all_scraped else None
    errors = int(measure.metric_total(scraped.values(), "pipeline_errors_total"))
    client = {name: summarize(merge([text]), "ms") for name, text in r.load.histograms.items()}
    legacy_messages, stream_messages = _stream_messages(r.nats_url, r.env.get("NATS_NAMESPACE", ""))
    isolation = collect.cross_tenant_rows(conn)
    negative = sum(1 for a in attempts if a.latency_ms < 0) + sum(1 for v in analysis_s.values() for s in v if s < 0)
    test_tenants = [t for t in r.flags.get("BULLMQ_TENANTS", "").split(",") if t]
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
        "servers": r.servers,
        "flags": r.flags,
        "settings_shortened": r.profile.shortened_settings,
        "seed": r.options.seed,
        "started_at": r.started_at.isoformat(),
        "duration_s": round((datetime.now(timezone.utc) - r.started_at).total_seconds(), 1),
        "libraries": library_versions(),
        "metrics": {
            "job_latency_ms": measure.latency_summary(job_ms, "ms"),
            "next_page_latency_ms": measure.latency_summary(next_page_ms, "ms"),
            "analysis_s": measure.latency_summary(analysis_s, "s"),
            "queries_per_analysis": {p: measure.count_summary(queries[p]) for p in collect.PATHS},
            "rows_read_per_analysis": {p: measure.count_summary([row.rows_read for row in rows if row.path == p])
                                       for p in collect.PATHS},
            "slow_queries": slow,
            "errors": errors + totals.failed,
            "client": client,
        },
        "jobs": {"enqueued": totals.enqueued, "completed": totals.completed, "failed": totals.failed,
                 "queued": totals.queued, "lost": totals.lost, "duplicated": totals.duplicated,
                 "backlog": backlog_words(totals, r.load.offered_rate()),
                 "success_rate": round(totals.completed / totals.enqueued, 6) if totals.enqueued else 0.0,
                 "by_path": totals.by_path, "lost_keys_sample": totals.lost_keys[:20]},
        "syncs": sync_counts(r.load.jobs, rows),
        "errors_by_path": measure.errors_by_path(totals),
        **accuracy,
        "accuracy_scope": scope,
        "comparison": {**comparison_figures(conn), **collect.comparison_totals(rows)},
        "queries_check": _queries_check(r, conn),
        "cohort": {**measure.cohort([t.tenant_id for t in r.tenants],
                                    {t.tenant_id: r.routing.should_use_bullmq(t.tenant_id) for t in r.tenants},
                                    r.load.jobs),
                   "test_tenants": test_tenants},
        "legacy_touch": {"scheduled_jobs_rows": collect.scheduled_jobs_rows(conn),
                         "legacy_analyses": sum(1 for row in rows if row.path == "legacy"),
                         "legacy_subject_messages": legacy_messages, "stream_messages": stream_messages},
        "isolation": {**isolation, "cross_tenant_rows": sum(isolation.values()),
                      "rows_checked": collect.rows_checked(conn)},
        "infrastructure": {**r.sampler.evidence(), "processes": len(r.exit_codes),
                           "processes_scraped": len(scraped), "process_exit_codes": r.exit_codes},
        "clock": {"negative_latencies": negative, "latencies_checked": len(attempts) + len(rows),
                  "database_offset_ms": {when: o.to_dict() for when, o in r.clock.items()},
                  "machine_events": r.machine_events},
        "load": {"lateness_ms": client.get("lateness_ms", summarize(merge([]), "ms")),
                 "arrivals": r.load.arrivals(), "rate": r.load.offered_rate(),
                 "production": _production(r), "requests": r.load.request_totals(), "counts": r.load.counts,
                 "locust_exit": r.load.locust_exit_code},
        "logs": log_figures(r.out / "logs"),
        "cpu": r.cpu.summary() if r.cpu else {},
        "series": {"queue_depth": r.sampler.series(),
                   "throughput": measure.throughput_series([a.started_at_s for a in attempts])},
        "tenant_sizes": sizes,
        "tenants": tenant_rows(r.load.jobs, attempts, rows, truth["expected"], truth["found"], sizes,
                               truth["on_new_path"]),
        "phases": r.phases,
        "legacy_baseline": legacy_baseline(job_ms["legacy"], legacy_durations_s(conn),
                                           float(r.env.get("LEGACY_POLL_INTERVAL_S", "60"))),
        "floor": {**{k: v for k, v in r.floor.items() if k != "job_latency_ms"},
                  "job_latency_ms": measure.latency_figures(r.floor.get("job_latency_ms", []), "ms")},
        "gates": [],
        "verdict": "INCONCLUSIVE",
        "reasons": ["gates not judged yet"],
    }
    samples = {"job_latency_ms": job_ms, "next_page_latency_ms": next_page_ms, "analysis_s": analysis_s,
               "queries_per_analysis": {p: [float(q) for q in queries[p]] for p in collect.PATHS},
               "queries_vs_size": {p: [[float(sizes.get(row.tenant_id, 0)), float(row.queries)]
                                       for row in rows if row.path == p] for p in collect.PATHS},
               "analysis_s_vs_size": {p: [[float(sizes.get(row.tenant_id, 0)), row.analysis_s]
                                          for row in rows if row.path == p] for p in collect.PATHS},
               "job_starts": {p: [[a.started_at_s, a.latency_ms] for a in arrivals if a.path == p]
                              for p in collect.PATHS}}
    from rollout_bench.compare.figures import regression_figures  # vs the latest stored release, same context

    from rollout_bench.capacity.headroom import headroom_figures  # the standard profile's 10x

    summary["capacity"] = headroom_figures(summary, r.profile.headroom_gate, r.options.results_root)
    summary["regression"] = regression_figures(summary, samples, collect.active_findings(conn),
                                               earlier=r.options.series_earlier, series_runs=r.options.series_runs,
                                               root=r.options.results_root)
    return summary, samples


def gate_samples(samples: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, Sequence[float]]:
    """Raw samples keyed by the summary path of their figures: a percentile gate on
    `metrics.job_latency_ms.unified.p99` is judged on `metrics.job_latency_ms.unified`."""
    out: dict[str, Sequence[float]] = {}
    for metric in ("job_latency_ms", "next_page_latency_ms", "analysis_s"):
        for path, values in samples.get(metric, {}).items():
            out[f"metrics.{metric}.{path}"] = [v for v in values if v >= 0]
    return out


def _validity_reasons(summary: Mapping[str, Any], results: Sequence[Any]) -> list[str]:
    """Words for a run that cannot be judged."""
    failed = {r.metric for r in results if r.result == "fail" and r.kind == "validity"}
    reasons = []
    if any(metric.startswith("cpu.") for metric in failed):
        rate = summary["load"]["rate"].get("jobs_per_s")
        share = summary["cpu"].get("machine_saturated_share") or 0.0
        advice = ("nothing else should run on it during the gate" if summary["profile"] in ("smoke", "tiny")
                  else "use a larger machine or PROFILE=smoke")
        reasons.append(f"this machine cannot carry PROFILE={summary['profile']} at {rate} jobs/s (CPU at 90 % or "
                       f"more in {share:.0%} of the run): {advice}")
    if any(metric.startswith("load.") for metric in failed):
        load = summary["load"]
        rate = load["rate"].get("syncs_per_s")
        reasons.append(f"the load generator could not hold {rate} syncs/s on this machine (arrival lateness p99 "
                       f"{load['lateness_ms'].get('p99')} ms, {load['arrivals']['dropped']} arrivals dropped)")
    return reasons


def _write(out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    summary = redact_obj(summary)
    problems = validate(summary)
    if problems:
        raise RuntimeError(f"summary.json does not match its schema: {problems[:3]}")
    write_json(out / "summary.json", summary)
    return summary


def finish_run(r: RunRecord, conn: psycopg.Connection[Any], gates: list[Gate], out: Path,
               progress: Callable[[str], None]) -> int:
    summary, samples = build_summary(r, conn)
    summary = _write(out, summary)
    write_samples(out, samples)
    write_json(out / "histograms.json", {
        "job_latency_ms": {p: encode(from_values([v for v in samples["job_latency_ms"][p] if v >= 0], "ms"))
                           for p in collect.PATHS},
        "analysis_s": {p: encode(from_values(samples["analysis_s"][p], "s")) for p in collect.PATHS},
        "client": r.load.histograms})
    results = evaluate_all(gates, summary, r.scenario.week, gate_samples(samples))
    verdict = decide(results, _validity_reasons(summary, results))
    summary["gates"] = [result.to_dict() for result in results]
    summary["verdict"] = verdict.verdict
    summary["reasons"] = verdict.reasons + [f"note: {words}" for words in summary["jobs"]["backlog"]
                                            if words.startswith("legacy")]
    summary = _write(out, summary)
    write_junit(out / "junit.xml", f"rollout-gate-week-{r.scenario.week}", results)
    from rollout_bench.report import write_report

    write_report(out, summary, samples, gates)
    print(render(results, verdict))
    print(f"\nresults: {out}/ (summary.json, report.html, junit.xml)")
    progress(f"verdict {verdict.verdict}")
    return verdict.exit_code


__all__ = ["RunRecord", "build_summary", "finish_run", "gate_samples"]
