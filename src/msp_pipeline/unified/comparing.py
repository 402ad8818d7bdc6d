"""Comparison mode on the unified side: both implementations on one snapshot.

For each analysed sync the unified analysis opens a REPEATABLE READ, read-only transaction
and exports its snapshot; the four legacy analyzers (their own loaders, rules with the
configured quirks, the legacy alert manager's reads and decisions) run at the same time on a
second connection that imports that snapshot, while the unified context loader reads on
the first. So both sides read exactly one state. Neither side writes there; afterwards only
the routed path writes alerts (the unified analysis when the tenant is routed to it, the
legacy analyzers process otherwise). When the snapshot cannot be shared the analysis is
recorded as raced, never as a match or a mismatch.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import sql as pgsql
from psycopg_pool import AsyncConnectionPool

from msp_pipeline.comparison import (
    ComparisonResult,
    MismatchReporter,
    compare_changes,
    compare_with_rules,
    finding_difference_pairs,
    with_alert_changes,
)
from msp_pipeline.contract import sql
from msp_pipeline.contract.settings import ConfigError
from msp_pipeline.db import Db, tagged
from msp_pipeline.faults import TestFault
from msp_pipeline.legacy.alerts import decide
from msp_pipeline.legacy.analysis import LegacyCapture, capture_legacy_analysis
from msp_pipeline.model import Finding
from msp_pipeline.pool import db_session
from msp_pipeline.rules import RULE_SETS, Quirks, run_rule_set
from msp_pipeline.unified.alerts import CurrentAlert, plan_changes, read_current_alerts
from msp_pipeline.unified.context import TenantContext

COMPARISON_IGNORE_ENV = "COMPARISON_IGNORE"
DEFAULT_IGNORED_QUIRKS = "policy_gap_never_raised,license_waste_reads_stale_tag"
MAX_RECORDED_DIFFERENCES = 100
SNAPSHOT_BEGIN = "legacy/comparison/snapshot_begin"
SNAPSHOT_EXPORT = "legacy/comparison/snapshot_export"
SNAPSHOT_IMPORT = "legacy/comparison/snapshot_import"
SNAPSHOT_KIND = "repeatable read, exported by the unified side, imported by the legacy side"
LEGACY_SNAPSHOT_STATEMENTS = 2  # begin and import on the legacy side's connection
T = TypeVar("T")


def ignored_quirks(env: Mapping[str, str]) -> frozenset[str]:
    """COMPARISON_IGNORE: comma list of quirk names (default: the two the plan expects);
    'none' or empty ignores nothing."""
    raw = env.get(COMPARISON_IGNORE_ENV, DEFAULT_IGNORED_QUIRKS).strip()
    if raw in ("", "none"):
        return frozenset()
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in Quirks.names()]
    if unknown:
        raise ConfigError(f"{COMPARISON_IGNORE_ENV}={raw!r} is not allowed: {unknown[0]!r} is not a quirk; "
                          f"use a comma list of {', '.join(Quirks.names())}, or none")
    return frozenset(names)


def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class SideCost:
    statements: int  # what a full analysis of this side issues (planned writes included)
    rows_read: int
    seconds: float  # reading and deciding; writes excluded on both sides
    detail: Mapping[str, Any]

    def record(self) -> dict[str, Any]:
        return {"statements": self.statements, "rowsRead": self.rows_read, "seconds": round(self.seconds, 4),
                **self.detail}


def comparison_record(result: ComparisonResult, costs: Mapping[str, SideCost] | None = None) -> dict[str, Any]:
    """What analysis_runs.comparison keeps: the counts, the differences (capped), the
    mismatches by type and direction, the ignored ones by rule, the alert changes, the cost."""
    differences = list(result.differences)
    record: dict[str, Any] = {
        "raced": False, "matched": result.matched, "mismatched": result.mismatched, "ignored": result.ignored,
        "differences": _json_ready(differences[:MAX_RECORDED_DIFFERENCES]),
        "differencesTotal": len(differences), "byType": _json_ready(result.by_type),
        "mismatches": _json_ready(result.mismatches), "mismatchedByType": _json_ready(result.mismatched_by_type),
        "ignoredByRule": dict(result.ignored_by_rule), "alertChanges": _json_ready(result.alert_changes),
    }
    if costs is not None:
        record["cost"] = {side: cost.record() for side, cost in costs.items()}
    return record


def raced_record(reason: str) -> dict[str, Any]:
    return {"raced": True, "reason": reason, "matched": 0, "mismatched": 0, "ignored": 0}


class SnapshotNotShared(Exception):
    """The legacy side could not read the unified side's snapshot: the analysis is raced."""


@dataclass
class SharedRead:
    """What both sides read in the one snapshot."""

    unified: Any  # the unified side's loader result
    legacy: LegacyCapture | None  # None: raced
    current_alerts: list[CurrentAlert]
    raced_reason: str = ""
    comparison_statements: int = 0


class Comparison:
    """Comparison mode for one analysis: `read_both` runs both sides on one snapshot, then
    `compare` diffs them, `record` is kept in analysis_runs.comparison, `report` sends a
    mismatch on."""

    def __init__(self, legacy_quirks: Quirks, ignored: frozenset[str], fault: TestFault | None = None) -> None:
        self.legacy_quirks = legacy_quirks
        self.ignored = ignored
        self.fault = fault
        self.result: ComparisonResult | None = None

    async def read_both(self, db: Db, pool: AsyncConnectionPool, tenant_id: str, data_source_id: str, *,
                        sync_id: str, now: datetime, load_unified: Callable[[Db], Awaitable[T]]) -> SharedRead:
        """The unified loader on `db` and the legacy capture on a second pooled connection,
        in parallel, in one exported REPEATABLE READ snapshot. `load_unified` counts its own
        statements; the snapshot statements and the plan's alert read are comparison's."""
        async with db.transaction():
            async with db.counting() as setup:
                await db.execute(SNAPSHOT_BEGIN)
                [(snapshot_id,)] = await db.fetch(SNAPSHOT_EXPORT)
            legacy = asyncio.create_task(self._capture_legacy(pool, str(snapshot_id), tenant_id, data_source_id,
                                                              sync_id, now))
            try:
                unified = await load_unified(db)
                async with db.counting() as plan_read:
                    current = await read_current_alerts(db, tenant_id, data_source_id)
                captured: LegacyCapture | None = None
                reason = ""
                try:
                    captured = await legacy
                except SnapshotNotShared as exc:
                    reason = str(exc)
            finally:
                if not legacy.done():
                    legacy.cancel()
                    await asyncio.gather(legacy, return_exceptions=True)
        overhead = setup.statements + plan_read.statements + LEGACY_SNAPSHOT_STATEMENTS
        return SharedRead(unified, captured, current, reason, overhead)

    async def _capture_legacy(self, pool: AsyncConnectionPool, snapshot_id: str, tenant_id: str,
                              data_source_id: str, sync_id: str, now: datetime) -> LegacyCapture:
        async with db_session(pool) as db, db.transaction():
            await db.execute(SNAPSHOT_BEGIN)
            statement = pgsql.SQL(tagged(SNAPSHOT_IMPORT, sql.load(SNAPSHOT_IMPORT))).format(  # type: ignore[arg-type]
                snapshot=pgsql.Literal(snapshot_id))
            try:
                await db.conn.execute(statement)
            except (psycopg.errors.InvalidParameterValue, psycopg.errors.UndefinedObject,  # gone: 22023 / 42704 (PG 18)
                    psycopg.errors.ObjectNotInPrerequisiteState) as exc:
                raise SnapshotNotShared(f"the legacy side could not import snapshot {snapshot_id}: {exc}") from exc
            return await capture_legacy_analysis(db, tenant_id, data_source_id, sync_id=sync_id, now=now,
                                                 quirks=self.legacy_quirks, fault=self.fault)

    def compare(self, context: TenantContext, unified_findings: list[Finding], shared: SharedRead,
                now: datetime) -> ComparisonResult:
        """Findings in both directions with the ignore rules, then the intended alert changes."""
        capture = shared.legacy
        assert capture is not None

        def rerun(quirks: Quirks) -> list[Finding]:
            return sorted(f for name in RULE_SETS for f in run_rule_set(name, capture.loaded[name].snapshot, now,
                                                                          quirks))

        result = compare_with_rules(unified_findings, capture.findings, self.legacy_quirks, self.ignored, rerun)
        unified_changes = plan_changes(unified_findings, context.entity_ids, shared.current_alerts)
        fixed = replace(self.legacy_quirks, **{name: False for name in self.ignored}, mfa_resolve_bug=False)
        existing = {(e, t, s): (a, sev, msg) for a, e, t, s, sev, msg in shared.current_alerts}
        active = [(a, e, t, s, sev) for a, e, t, s, sev, _ in shared.current_alerts]
        fixed_findings = {name: run_rule_set(name, capture.loaded[name].snapshot, now, fixed) for name in RULE_SETS}
        legacy_fixed = [c for name in RULE_SETS for c in decide(
            name, fixed_findings[name], capture.loaded[name].entity_ids, existing, active, fixed).changes]
        names = {entity_id: ext for (_, ext), entity_id in context.entity_ids.items()}
        for loaded in capture.loaded.values():
            names.update({entity_id: ext for (_, ext), entity_id in loaded.entity_ids.items()})
        changes = compare_changes(unified_changes, capture.changes, legacy_fixed,
                                  finding_difference_pairs((unified_findings, capture.findings), (
                                      unified_findings, sorted(f for fs in fixed_findings.values() for f in fs))),
                                  names)
        self.result = with_alert_changes(result, changes)
        return self.result

    def record(self, context: TenantContext, unified_findings: list[Finding], shared: SharedRead, now: datetime,
               unified_cost: SideCost) -> dict[str, Any]:
        """The JSON kept in analysis_runs.comparison for this analysis."""
        if shared.legacy is None:
            self.result = None
            return {**raced_record(shared.raced_reason), "snapshot": SNAPSHOT_KIND}
        result = self.compare(context, unified_findings, shared, now)
        record = comparison_record(result, {"unified": unified_cost, "legacy": self.legacy_cost(shared.legacy)})
        record["cost"]["comparisonStatements"] = shared.comparison_statements
        record["snapshot"] = SNAPSHOT_KIND
        return record

    @staticmethod
    def legacy_cost(capture: LegacyCapture) -> SideCost:
        return SideCost(capture.statements, capture.rows_read, capture.seconds, {
            "executed": capture.executed_statements, "plannedWrites": capture.planned_write_statements,
            "perAnalyzer": {a.name: {"statements": a.queries, "rowsRead": a.rows_read, "seconds": round(a.seconds, 4)}
                            for a in capture.per_analyzer}})

    async def report(self, reporter: MismatchReporter, tenant_id: str, sync_id: str) -> bool:
        """Reports a mismatch (if any); True when there was one."""
        if self.result is None or not self.result.mismatched:
            return False
        outcome = reporter.report(tenant_id, sync_id, self.result)
        if inspect.isawaitable(outcome):
            await outcome
        return True

