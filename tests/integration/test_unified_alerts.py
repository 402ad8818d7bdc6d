"""Unified alert manager: lifecycle with history, idempotent re-runs, one transaction."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import psycopg
import pytest

from msp_pipeline.analysis import AnalysisOutcome
from msp_pipeline.pool import open_pool
from msp_pipeline.rules import Quirks
from msp_pipeline.unified import UNIFIED_QUERIES, run_unified_analysis
from msp_pipeline.unified.comparing import Comparison
from tests.integration.test_unified_context import (
    NOW,
    HandTenant,
    build_tenant,
    set_policy_excludes,
)

pytestmark = pytest.mark.integration


async def _analyse(database_url: str, tenant: HandTenant, sync_id: str, now: datetime = NOW,
                   **kwargs: Any) -> AnalysisOutcome:
    pool = await open_pool(database_url, max_size=2)
    try:
        return await run_unified_analysis(pool, tenant.tenant_id, tenant.data_source_id,
                                          sync_id=sync_id, now=now, **kwargs)
    finally:
        await pool.close()


def analyse(database_url: str, tenant: HandTenant, sync_id: str, **kwargs: Any) -> AnalysisOutcome:
    return asyncio.run(_analyse(database_url, tenant, sync_id, **kwargs))


def rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


ALERTS = ("SELECT e.external_id, a.alert_type, a.severity, a.subject, a.status FROM entity_alerts a "
          "JOIN entities e ON e.id = a.entity_id ORDER BY 1, 2, 4, a.id")
HISTORY = ("SELECT e.external_id, a.alert_type, h.previous_status, h.new_status, h.previous_severity, "
           "h.new_severity, h.changed_by, h.sync_id, h.trace_id FROM entity_alert_history h "
           "JOIN entity_alerts a ON a.id = h.alert_id JOIN entities e ON e.id = a.entity_id ORDER BY h.id")


def test_create_then_resolve_when_cause_fixed_with_history(database_url: str) -> None:
    tenant = build_tenant(database_url)
    first = analyse(database_url, tenant, "sync-1")
    active = rows(database_url, ALERTS)
    assert [(ext, t, sev, sub) for ext, t, sev, sub, status in active] == tenant.expected
    assert {status for *_, status in active} == {"active"}
    history = rows(database_url, HISTORY)
    assert len(history) == len(tenant.expected)
    assert {(h[2], h[3], h[6], h[7], h[8]) for h in history} == {
        (None, "active", "unified-alert-manager", "sync-1", first.trace_id)}
    assert rows(database_url, "SELECT state FROM entities WHERE external_id = 'bob-0'") == [("critical",)]

    # the MFA bug: bob regains MFA coverage -> his MFA and policy-gap alerts get resolved
    set_policy_excludes(database_url, tenant, ["erin-0"])
    second = analyse(database_url, tenant, "sync-2")
    resolved = rows(database_url, ALERTS + "")
    assert [(ext, t) for ext, t, _, _, status in resolved if status == "resolved"] == [
        ("bob-0", "mfa_not_enforced"), ("bob-0", "policy_gap")]
    new_history = rows(database_url, HISTORY)[len(history):]
    assert [(h[0], h[1], h[2], h[3], h[4], h[5], h[7], h[8]) for h in new_history] == [
        ("bob-0", "mfa_not_enforced", "active", "resolved", "high", "high", "sync-2", second.trace_id),
        ("bob-0", "policy_gap", "active", "resolved", "medium", "medium", "sync-2", second.trace_id),
    ]
    assert rows(database_url, "SELECT resolved_at IS NOT NULL FROM entity_alerts WHERE status = 'resolved'") == [
        (True,), (True,)]
    assert rows(database_url, "SELECT state FROM entities WHERE external_id = 'bob-0'") == [("normal",)]


def test_rerun_without_change_writes_nothing_and_severity_change_updates(database_url: str) -> None:
    tenant = build_tenant(database_url)
    analyse(database_url, tenant, "sync-1")
    before = rows(database_url, "SELECT id, severity, message, updated_at FROM entity_alerts ORDER BY id")
    analyse(database_url, tenant, "sync-2")
    assert rows(database_url, "SELECT id, severity, message, updated_at FROM entity_alerts ORDER BY id") == before
    assert rows(database_url, "SELECT count(*) FROM entity_alert_history") == [(len(tenant.expected),)]
    assert rows(database_url, "SELECT count(*), count(DISTINCT sync_id) FROM analysis_runs") == [(2, 2)]

    # bob becomes an admin: his alerts keep their identity, change severity, get history
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO entity_relationships (tenant_id, data_source_id, parent_entity_id, "
                     "child_entity_id, relationship_type) SELECT p.tenant_id, p.data_source_id, p.id, c.id, "
                     "'assigned_role' FROM entities p, entities c "
                     "WHERE p.external_id = 'role-0' AND c.external_id = 'bob-0'")
    analyse(database_url, tenant, "sync-3")
    bob = [r for r in rows(database_url, ALERTS) if r[0] == "bob-0"]
    assert bob == [("bob-0", "mfa_not_enforced", "critical", "", "active"),
                   ("bob-0", "policy_gap", "high", "", "active")]
    updates = [h for h in rows(database_url, HISTORY) if h[7] == "sync-3"]
    assert [(h[0], h[2], h[3], h[4], h[5]) for h in updates] == [
        ("bob-0", "active", "active", "high", "critical"), ("bob-0", "active", "active", "medium", "high")]


def test_failure_mid_write_leaves_no_partial_alerts(database_url: str) -> None:
    tenant = build_tenant(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # the last statement of the transaction fails, after alerts, history and states were written
        conn.execute("CREATE FUNCTION provoke_failure() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RAISE EXCEPTION 'provoked failure'; END $$")
        conn.execute("CREATE TRIGGER provoke BEFORE INSERT ON analysis_runs "
                     "FOR EACH ROW EXECUTE FUNCTION provoke_failure()")
    with pytest.raises(psycopg.errors.RaiseException, match="provoked failure"):
        analyse(database_url, tenant, "sync-1")
    for table in ("entity_alerts", "entity_alert_history", "analysis_runs"):
        assert rows(database_url, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert rows(database_url, "SELECT DISTINCT state FROM entities") == [("normal",)]


def test_comparison_only_writes_no_alerts_but_records_the_run(database_url: str) -> None:
    tenant = build_tenant(database_url)
    comparison = Comparison(Quirks.legacy(), frozenset(Quirks.names()) - {"mfa_resolve_bug"})
    outcome = analyse(database_url, tenant, "sync-1", write_alerts=False, comparison=comparison)
    assert outcome.queries == 3  # the unified side's own count; comparison's statements are kept apart
    assert rows(database_url, "SELECT count(*) FROM entity_alerts") == [(0,)]
    [(queries, findings, record)] = rows(database_url, "SELECT queries, findings, comparison FROM analysis_runs")
    assert (queries, findings) == (3, len(tenant.expected))
    assert record["alertsWritten"] is False and record["raced"] is False
    assert record["mismatched"] == 0 and record["matched"] > 0
    assert record["cost"]["unified"]["statements"] == UNIFIED_QUERIES  # a full analysis, as if it wrote
    assert record["cost"]["legacy"]["statements"] > record["cost"]["unified"]["statements"]
    assert record["alertChanges"]["unified"]["created"] == len(tenant.expected)