"""One full legacy analysis: the four analyzers one after the other, each loading its own
data, running its rule set, and writing its alerts through the legacy alert manager.

`capture_legacy_analysis` is the same work for comparison mode, on the caller's connection
(inside its snapshot) and without writing: the loaders and the alert manager's reads run,
its writes are planned and counted, so the figures are what the legacy path would issue."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from psycopg_pool import AsyncConnectionPool

from msp_pipeline.analysis import AnalysisOutcome, AnalyzerStats, ChangeKey
from msp_pipeline.contract.events import trace_id as make_trace_id
from msp_pipeline.db import Db
from msp_pipeline.faults import TestFault
from msp_pipeline.legacy.alerts import (
    LegacyAlertPlan,
    apply_plan,
    plan_alerts,
    stale_tag_statements,
    write_stale_tags,
)
from msp_pipeline.legacy.loaders import LOADERS, Loaded
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import Finding
from msp_pipeline.pool import db_session
from msp_pipeline.rules import RULE_SETS, Quirks, run_rule_set

RUN_ROW_STATEMENTS = 1  # each analyzer's analysis_runs row


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
            plan = await plan_alerts(db, scope, name, findings, loaded.entity_ids, quirks)
            await apply_plan(db, scope, plan)
            if name == "stale":
                await write_stale_tags(db, scope, findings, loaded.entity_ids)
            await db.execute("legacy/analyzers/analysis_run_insert", {
                **scope, "analyzer": name, "trigger_event_at": trigger_event_at, "started_at": started_at,
                "queries": stats.statements + RUN_ROW_STATEMENTS, "rows_read": stats.rows_read,
                "findings": len(findings)})
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


@dataclass
class LegacyCapture:
    """The four analyzers' findings and alert decisions for one sync, captured unwritten.
    `per_analyzer[i].queries` counts what that analyzer would issue: the statements it ran
    (loader, alert reads) plus its planned writes and its analysis_runs row."""

    per_analyzer: list[AnalyzerStats]
    loaded: dict[str, Loaded]
    plans: dict[str, LegacyAlertPlan]
    executed_statements: int = 0
    planned_write_statements: int = 0
    rows_read: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return self.executed_statements + self.planned_write_statements

    @property
    def changes(self) -> list[ChangeKey]:
        return [c for plan in self.plans.values() for c in plan.changes]


async def capture_legacy_analysis(db: Db, tenant_id: str, data_source_id: str, *, sync_id: str, now: datetime,
                                  quirks: Quirks, fault: TestFault | None = None) -> LegacyCapture:
    """Runs the four legacy analyzers on `db` as they are (their loaders, rules with
    `quirks`, the alert manager's reads and decisions) and writes nothing."""
    capture = LegacyCapture([], {}, {})
    scope = {"tenant_id": tenant_id, "data_source_id": data_source_id, "sync_id": sync_id,
             "trace_id": make_trace_id(sync_id, "legacy-captured")}
    for name in RULE_SETS:
        started = time.perf_counter()
        async with db.counting() as stats:
            loaded = await LOADERS[name](db, scope, fault)
            findings = run_rule_set(name, loaded.snapshot, now, quirks)
            plan = await plan_alerts(db, scope, name, findings, loaded.entity_ids, quirks)
        planned = plan.write_statements + RUN_ROW_STATEMENTS
        if name == "stale":
            planned += stale_tag_statements(findings, loaded.entity_ids)
        seconds = time.perf_counter() - started
        capture.per_analyzer.append(AnalyzerStats(name, stats.statements + planned, stats.rows_read, seconds,
                                                  findings))
        capture.loaded[name], capture.plans[name] = loaded, plan
        capture.executed_statements += stats.statements
        capture.planned_write_statements += planned
        capture.rows_read += stats.rows_read
        capture.seconds += seconds
    capture.findings = sorted(f for a in capture.per_analyzer for f in a.findings)
    return capture
