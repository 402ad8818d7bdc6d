"""One unified analysis (phase 4): load the context once, run the four rule sets with every
quirk off, and commit alerts, history, entity states and the analysis_runs row in one
transaction.

Statements per analysis, the same for any tenant size:
- alerts written: 2 (context) + 3 (alert manager) + 1 (analysis_runs) = `UNIFIED_QUERIES`;
- comparison only (`write_alerts=False`): 2 + 1.
Comparison mode adds its own statements (the shared snapshot, the read for the alert plan,
the legacy side's whole work), tagged `legacy/...` and kept out of these counts.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from msp_pipeline.analysis import AnalysisOutcome, AnalyzerStats
from msp_pipeline.contract.events import trace_id as make_trace_id
from msp_pipeline.db import Db, QueryStats
from msp_pipeline.faults import TestFault
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import db_session
from msp_pipeline.rules import Quirks, all_findings
from msp_pipeline.unified import alerts as alert_manager
from msp_pipeline.unified.comparing import Comparison, SideCost
from msp_pipeline.unified.context import CONTEXT_QUERIES, TenantContext, load_tenant_context

PATH = "unified"
ANALYZER = "unified"
TRACE_STAGE = "unified-analysis"
UNIFIED_QUERIES = CONTEXT_QUERIES + alert_manager.ALERT_WRITE_QUERIES + 1
COMPARISON_ONLY_QUERIES = CONTEXT_QUERIES + 1
ComparisonHook = Comparison  # comparison mode: both implementations on one snapshot (unified.comparing)


def _share(name: str, before: QueryStats, after: QueryStats, seconds: float) -> AnalyzerStats:
    return AnalyzerStats(name, after.statements - before.statements, after.rows_read - before.rows_read, seconds)


async def run_unified_analysis(pool: AsyncConnectionPool, tenant_id: str, data_source_id: str, *,
                               sync_id: str, now: datetime, metrics: Metrics | None = None,
                               trigger_event_at: datetime | None = None, write_alerts: bool = True,
                               comparison: Comparison | None = None,
                               fault: TestFault | None = None) -> AnalysisOutcome:
    """Analyses one tenant data source. With `write_alerts=False` (comparison mode for a
    tenant routed to legacy) nothing but the analysis_runs row is written. With `comparison`
    the legacy analyzers run too, on the same snapshot, and the record of both is kept in
    analysis_runs.comparison. `fault`: the test-only loader fault (PIPELINE_TEST_FAULT)."""
    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    trace = make_trace_id(sync_id, TRACE_STAGE, started_at)
    loaded = QueryStats()
    load_seconds = 0.0  # the context loader alone (in comparison mode the legacy side runs meanwhile)

    async def load(db: Db) -> TenantContext:
        nonlocal load_seconds
        load_started = time.perf_counter()
        async with db.counting() as counted:
            context = await load_tenant_context(db, tenant_id, data_source_id, fault)
        loaded.statements, loaded.rows_read = counted.statements, counted.rows_read
        load_seconds = time.perf_counter() - load_started
        return context

    async with db_session(pool, metrics) as db:
        shared = None
        if comparison is not None:
            shared = await comparison.read_both(db, pool, tenant_id, data_source_id, sync_id=sync_id, now=now,
                                                load_unified=load)
            context: TenantContext = shared.unified
        else:
            context = await load(db)
        load_s = time.perf_counter() - started
        rules_started = time.perf_counter()
        findings = all_findings(context.snapshot, now, Quirks())
        rules_s = time.perf_counter() - rules_started
        record: dict[str, Any] | None = None
        if comparison is not None and shared is not None:
            unified_cost = SideCost(loaded.statements + alert_manager.ALERT_WRITE_QUERIES + 1, loaded.rows_read,
                                    load_seconds + rules_s, {"alertsWritten": write_alerts})
            record = comparison.record(context, findings, shared, now, unified_cost)
            record["alertsWritten"] = write_alerts
        write_started = time.perf_counter()
        async with db.counting() as written, db.transaction():
            changes = alert_manager.AlertChanges()
            if write_alerts:
                changes = await alert_manager.write_alerts(
                    db, tenant_id, data_source_id, findings, context.entity_ids,
                    trace_id=trace, sync_id=sync_id)
            await db.execute("unified/analysis_run_insert", {
                "tenant_id": tenant_id, "data_source_id": data_source_id, "sync_id": sync_id,
                "trace_id": trace, "trigger_event_at": trigger_event_at, "started_at": started_at,
                "queries": loaded.statements + written.statements + 1,
                "rows_read": loaded.rows_read + written.rows_read, "findings": len(findings),
                "comparison": None if record is None else Jsonb(record),
            })
    seconds = time.perf_counter() - started
    total = QueryStats(loaded.statements + written.statements, loaded.rows_read + written.rows_read)
    per_analyzer = [
        _share("context-loader", QueryStats(), loaded, load_s),
        AnalyzerStats("unified-rules", 0, 0, write_started - started - load_s, findings),
        _share(alert_manager.CHANGED_BY, loaded, total, time.perf_counter() - write_started),
    ]
    if metrics:
        metrics.analysis_duration.labels(ANALYZER).observe(seconds)
        if write_alerts:
            for finding in findings:
                metrics.findings.labels(finding.alert_type, finding.severity).inc()
    log("UnifiedAnalyzer", "analysis", f"{len(findings)} findings in {seconds * 1000:.0f} ms",
        traceId=trace, syncId=sync_id, tenantId=tenant_id, dataSourceId=data_source_id,
        stage="analysis", duration_ms=round(seconds * 1000, 1), queries=total.statements,
        rows_read=total.rows_read, write_alerts=write_alerts, created=changes.created,
        updated=changes.updated, resolved=changes.resolved)
    return AnalysisOutcome(PATH, tenant_id, data_source_id, sync_id, trace, total.statements,
                           total.rows_read, seconds, findings, per_analyzer)
