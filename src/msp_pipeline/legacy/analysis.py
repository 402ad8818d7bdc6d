"""One full legacy analysis: the four analyzers one after the other, each loading its own
data, running its rule set, and writing its alerts through the legacy alert manager."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone

from psycopg_pool import AsyncConnectionPool

from msp_pipeline.analysis import AnalysisOutcome, AnalyzerStats
from msp_pipeline.contract.events import trace_id as make_trace_id
from msp_pipeline.legacy.alerts import write_findings, write_stale_tags
from msp_pipeline.legacy.loaders import LOADERS
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import db_session
from msp_pipeline.rules import RULE_SETS, Quirks, run_rule_set


async def run_analyzer(pool: AsyncConnectionPool, name: str, tenant_id: str, data_source_id: str, *,
                       sync_id: str, now: datetime, quirks: Quirks, metrics: Metrics | None = None,
                       trigger_event_at: datetime | None = None) -> AnalyzerStats:
    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    scope = {"tenant_id": tenant_id, "data_source_id": data_source_id, "sync_id": sync_id,
             "trace_id": make_trace_id(sync_id, f"legacy-{name}", started_at)}
    async with db_session(pool, metrics) as db, db.counting() as stats:
        loaded = await LOADERS[name](db, scope)
        findings = run_rule_set(name, loaded.snapshot, now, quirks)
        async with db.transaction():
            await write_findings(db, scope, name, findings, loaded.entity_ids, quirks)
            if name == "stale":
                await write_stale_tags(db, scope, findings, loaded.entity_ids)
            await db.execute("legacy/analyzers/analysis_run_insert", {
                **scope, "analyzer": name, "trigger_event_at": trigger_event_at, "started_at": started_at,
                "queries": stats.statements + 1, "rows_read": stats.rows_read, "findings": len(findings)})
    seconds = time.perf_counter() - started
    if metrics:
        metrics.analysis_duration.labels(f"legacy-{name}").observe(seconds)
        for f in findings:
            metrics.findings.labels(f.alert_type, f.severity).inc()
    return AnalyzerStats(name, stats.statements, stats.rows_read, seconds, findings)


async def run_legacy_analysis(pool: AsyncConnectionPool, tenant_id: str, data_source_id: str, *, sync_id: str,
                              now: datetime, quirks: Quirks, metrics: Metrics | None = None,
                              trigger_event_at: datetime | None = None,
                              analyzers: Sequence[str] = RULE_SETS) -> AnalysisOutcome:
    per = [await run_analyzer(pool, name, tenant_id, data_source_id, sync_id=sync_id, now=now, quirks=quirks,
                              metrics=metrics, trigger_event_at=trigger_event_at) for name in analyzers]
    return AnalysisOutcome("legacy", tenant_id, data_source_id, sync_id, make_trace_id(sync_id, "legacy"),
                           sum(a.queries for a in per), sum(a.rows_read for a in per), sum(a.seconds for a in per),
                           sorted(f for a in per for f in a.findings), per)
