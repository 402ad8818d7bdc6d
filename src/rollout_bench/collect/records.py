"""Reads what a run did from the pipeline's own records (job_runs, analysis_runs,
entity_alerts, scheduled_jobs, pg_stat_statements): timestamps all taken on this machine's
clock, so job latency and analysis time need no clock sync."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from msp_pipeline.contract.jobs import ATTEMPTS
from msp_pipeline.model import Finding
from rollout_bench.pipeline.settle import is_settle
from rollout_bench.pipeline.wire import WARMUP_PATTERN
from rollout_bench.sql import load

PATHS = ("legacy", "unified")
JOB_STATES = ("enqueued", "completed", "failed", "queued", "lost", "duplicated")


@dataclass
class JobTotals:
    enqueued: int = 0
    completed: int = 0
    failed: int = 0
    queued: int = 0  # still on their path (waiting, retrying, running): backlog, not loss
    lost: int = 0  # on no path, neither completed nor failed: data loss
    duplicated: int = 0
    lost_keys: list[str] = field(default_factory=list)
    by_path: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class AnalysisRow:
    path: str
    analyzer: str
    tenant_id: str
    sync_id: str
    queries: int
    rows_read: int
    findings: int
    analysis_s: float
    compute_s: float
    comparison: dict[str, Any] | None


@dataclass(frozen=True)
class FirstAttempt:
    """A job's first attempt: latency as measured (negative when clocks disagree: kept, not
    clamped), and whether it is a next page (timed from its own enqueue)."""

    path: str
    job_key: str
    latency_ms: float
    started_at_s: float

    @property
    def next_page(self) -> bool:
        return not self.job_key.endswith(":0")

    @property
    def arrival(self) -> bool:
        """A job of the load's own schedule: not a next page (timed from its own enqueue) and
        not a settle sync (one burst after the load, for accuracy only)."""
        return not self.next_page and not is_settle(self.job_key)


def job_first_attempts(conn: psycopg.Connection[Any]) -> list[FirstAttempt]:
    rows = conn.execute(load("collect/job_latencies"), {"warmup": WARMUP_PATTERN})
    return [FirstAttempt(path, key, float(latency_ms), started.timestamp()) for path, key, latency_ms, started in rows]


def job_totals(conn: psycopg.Connection[Any], enqueued: Iterable[Mapping[str, Any]],
               queued: Callable[[set[str]], set[str]] | None = None) -> JobTotals:
    """enqueued: the load's own list of jobs (job_key, path). Each is exactly one of:
    completed (an attempt completed), failed (all attempts failed, or legacy 'broken'),
    queued (still on a path, as `queued` says of the rest) or lost."""
    outcomes = {key: (path, done, failed, running)
                for key, path, done, failed, running in conn.execute(load("collect/job_outcomes"), {"warmup": WARMUP_PATTERN})}
    broken = {f"{sync}:{etype}:{batch}" for sync, etype, batch in conn.execute(load("collect/broken_legacy_jobs"))}
    totals = JobTotals()
    by_path: dict[str, Counter[str]] = defaultdict(Counter)
    for job in enqueued:
        key, path = str(job["job_key"]), str(job["path"])
        totals.enqueued += 1
        by_path[path]["enqueued"] += 1
        _, done, failed, _running = outcomes.get(key, (path, 0, 0, 0))
        if done >= 1:
            totals.completed += 1
            by_path[path]["completed"] += 1
            if done > 1:
                totals.duplicated += 1
                by_path[path]["duplicated"] += 1
        elif failed >= ATTEMPTS or key in broken:
            totals.failed += 1
            by_path[path]["failed"] += 1
        else:
            totals.lost += 1
            by_path[path]["lost"] += 1
            totals.lost_keys.append(key)
    if queued is not None and totals.lost_keys:
        paths = {str(job["job_key"]): str(job["path"]) for job in enqueued}
        still = queued(set(totals.lost_keys))
        for key in still:
            by_path[paths[key]]["lost"] -= 1
            by_path[paths[key]]["queued"] += 1
        totals.queued, totals.lost = len(still), totals.lost - len(still)
        totals.lost_keys = [k for k in totals.lost_keys if k not in still]
    totals.by_path = {p: {k: int(c.get(k, 0)) for k in JOB_STATES} for p, c in by_path.items()}
    return totals


def analyses(conn: psycopg.Connection[Any]) -> list[AnalysisRow]:
    return [AnalysisRow(path, analyzer, tenant, sync, int(q), int(r), int(f), float(a), float(c), cmp)
            for path, analyzer, tenant, sync, q, r, f, a, c, _at, cmp in conn.execute(load("collect/analyses"), {"warmup": WARMUP_PATTERN})]


def analysis_queries_by_path(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {path: int(n) for path, n in conn.execute(load("collect/analysis_queries_by_path"))}


def active_findings(conn: psycopg.Connection[Any]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = defaultdict(list)
    for tenant, etype, ext, alert_type, severity, subject in conn.execute(load("collect/active_alerts")):
        out[tenant].append(Finding(etype, ext, alert_type, severity, subject))
    return out


def accuracy(expected: Mapping[str, list[Finding]], found: Mapping[str, list[Finding]]) -> dict[str, int]:
    """Multiset match on (entity, alert type, severity, subject) over the given tenants."""
    missing = extra = total_expected = total_found = 0
    for tenant, want in expected.items():
        want_c = Counter((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in want)
        got_c = Counter((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in found.get(tenant, []))
        total_expected += sum(want_c.values())
        total_found += sum(got_c.values())
        missing += sum((want_c - got_c).values())
        extra += sum((got_c - want_c).values())
    return {"expected": total_expected, "found": total_found, "missing": missing, "extra": extra}


def tenant_sizes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {tenant: int(n) for tenant, n in conn.execute(load("collect/tenant_sizes"))}


def scheduled_jobs_rows(conn: psycopg.Connection[Any]) -> int:
    return int(conn.execute(load("collect/scheduled_jobs_rows")).fetchone()[0])  # type: ignore[index]


def statement_entries(conn: psycopg.Connection[Any]) -> list[tuple[str, int]] | None:
    """(text, calls) of every pg_stat_statements entry of this database, or None when the
    extension is not there."""
    try:
        with conn.transaction():
            return [(str(query), int(calls)) for query, calls in conn.execute(load("collect/statement_calls"))]
    except (psycopg.errors.UndefinedTable, psycopg.errors.ObjectNotInPrerequisiteState):
        return None


def statement_evictions(conn: psycopg.Connection[Any]) -> int | None:
    """pg_stat_statements' eviction count (PostgreSQL 14+), or None when it cannot be read."""
    try:
        with conn.transaction():
            row = conn.execute(load("collect/statement_evictions")).fetchone()
            return int(row[0]) if row else None
    except (psycopg.errors.UndefinedTable, psycopg.errors.ObjectNotInPrerequisiteState):
        return None


def cross_tenant_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    row = conn.execute(load("collect/cross_tenant_rows")).fetchone()
    assert row is not None
    return {"entities": int(row[0]), "relationships": int(row[1]), "alerts": int(row[2])}


def rows_checked(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(load("collect/rows_checked")).fetchone()
    return int(row[0]) if row else 0


def comparison_totals(rows: Iterable[AnalysisRow]) -> dict[str, int]:
    totals = {"analyses": 0, "matched": 0, "mismatched": 0, "ignored": 0}
    for row in rows:
        if row.comparison:
            totals["analyses"] += 1
            for key in ("matched", "mismatched", "ignored"):
                totals[key] += int(row.comparison.get(key, 0))
    return totals
