"""Comparison mode runs both implementations on one snapshot (real Postgres): the unified
context loader and the four legacy loaders, rules and alert managers; only the routed side
writes; an injected loader fault on either side is a mismatch naming the entities."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from msp_pipeline.faults import TestFault
from msp_pipeline.pool import open_pool
from msp_pipeline.rules import Quirks
from msp_pipeline.unified import UNIFIED_QUERIES
from msp_pipeline.unified.comparing import Comparison, SnapshotNotShared
from rollout_bench.collect.comparison import comparison_figures
from tests.integration.test_unified_alerts import analyse, rows
from tests.integration.test_unified_context import NOW, build_tenant, set_policy_excludes

pytestmark = pytest.mark.integration
WEEK1_IGNORED = frozenset(Quirks.names()) - {"mfa_resolve_bug"}  # as week 1 declares them


def compared(database_url: str, tenant: Any, sync_id: str, fault: TestFault | None = None,
             write_alerts: bool = True) -> dict[str, Any]:
    comparison = Comparison(Quirks.legacy(), WEEK1_IGNORED, fault)
    analyse(database_url, tenant, sync_id, write_alerts=write_alerts, comparison=comparison, fault=fault)
    [(record,)] = rows(database_url, "SELECT comparison FROM analysis_runs WHERE sync_id = %s", sync_id)
    return record


def test_both_sides_run_and_only_the_unified_side_writes(database_url: str) -> None:
    tenant = build_tenant(database_url, copies=2)
    record = compared(database_url, tenant, "sync-1")
    assert record["raced"] is False and record["mismatched"] == 0, record["differences"]
    assert record["ignoredByRule"] == {"policy_gap_never_raised": 2, "license_waste_reads_stale_tag": 2}
    assert record["matched"] == len(tenant.expected) - 4 and record["ignored"] == 4
    legacy, unified = record["cost"]["legacy"], record["cost"]["unified"]
    assert set(legacy["perAnalyzer"]) == {"mfa", "policy", "license", "stale"}
    assert legacy["statements"] == sum(a["statements"] for a in legacy["perAnalyzer"].values())
    assert legacy["statements"] == legacy["executed"] + legacy["plannedWrites"]
    assert unified["statements"] == UNIFIED_QUERIES and legacy["statements"] > 3 * unified["statements"]
    assert record["alertChanges"]["unified"]["created"] == len(tenant.expected)
    assert record["alertChanges"]["legacy"]["created"] == record["matched"]  # the quirks hide 4 findings
    assert record["alertChanges"]["followsFindings"] == 4 and record["alertChanges"]["mismatched"] == 0
    assert rows(database_url, "SELECT DISTINCT changed_by FROM entity_alert_history") == [("unified-alert-manager",)]
    assert rows(database_url, "SELECT count(*) FROM analysis_runs WHERE path = 'legacy'") == [(0,)]


def test_legacy_side_cost_matches_a_real_legacy_run(database_url: str) -> None:
    """The captured legacy side counts what the legacy analyzers issue when they write."""
    from msp_pipeline.legacy.analysis import run_legacy_analysis

    tenant = build_tenant(database_url, copies=2)
    record = compared(database_url, tenant, "sync-1", write_alerts=False)

    async def legacy() -> int:
        pool = await open_pool(database_url, max_size=2)
        try:
            outcome = await run_legacy_analysis(pool, tenant.tenant_id, tenant.data_source_id, sync_id="real",
                                                now=NOW, quirks=Quirks.legacy())
            return sum(a.queries for a in outcome.per_analyzer)
        finally:
            await pool.close()

    real = asyncio.run(legacy())
    logged = rows(database_url, "SELECT sum(queries) FROM analysis_runs WHERE path = 'legacy'")[0][0]
    assert record["cost"]["legacy"]["statements"] == logged == real


def test_mfa_resolve_bug_is_a_known_counted_difference(database_url: str) -> None:
    tenant = build_tenant(database_url)
    assert compared(database_url, tenant, "sync-1")["mismatched"] == 0
    set_policy_excludes(database_url, tenant, [])  # bob and erin fully covered: their MFA alerts should resolve
    record = compared(database_url, tenant, "sync-2")
    changes = record["alertChanges"]
    assert record["mismatched"] == 0, record["differences"]
    assert changes["known"] == {"mfa_resolve_bug": 2}
    assert changes["unified"]["resolved"] > changes["legacy"]["resolved"]
    figures = comparison_figures(psycopg.connect(database_url, autocommit=True))
    assert figures["alert_changes"]["mfa_resolve_bug"] == 2 and figures["mismatched"] == 0


def test_unified_loader_fault_is_a_mismatch_naming_the_members(database_url: str) -> None:
    tenant = build_tenant(database_url)
    record = compared(database_url, tenant, "sync-1", TestFault("unified-drop-group-members", group="partial-0"))
    assert record["mismatched"] >= 2
    named = {(m["entity"], m["side"], m["alertType"]) for m in record["mismatches"]}
    assert ("erin-0", "unified-only", "mfa_not_enforced") in named  # erin lost her group's partial coverage
    assert ("erin-0", "legacy-only", "mfa_partial_enforced") in named
    assert {m["entity"] for m in record["mismatches"]} == {"erin-0"}
    assert record["mismatchedByType"]["mfa_not_enforced"] == {"unified-only": 1, "legacy-only": 0}


def test_legacy_loader_fault_is_a_mismatch_naming_the_skipped_identities(database_url: str) -> None:
    tenant = build_tenant(database_url, copies=3)  # 15 identities: page 1 of 10 is skipped
    skipped = {ext for ext, in rows(database_url, "SELECT external_id FROM entities WHERE entity_type = 'identities' "
                                                  "ORDER BY id LIMIT 10")}
    record = compared(database_url, tenant, "sync-1", TestFault("legacy-skip-page", page=1))
    mfa_expected = {e for e, alert, _, _ in tenant.expected if alert.startswith("mfa_")}
    assert record["mismatched"] == len(mfa_expected & skipped) > 0
    assert {m["entity"] for m in record["mismatches"]} == mfa_expected & skipped
    assert {m["side"] for m in record["mismatches"]} == {"unified-only"}


def test_unshared_snapshot_is_raced_not_compared(database_url: str) -> None:
    tenant = build_tenant(database_url)

    async def scenario() -> None:
        pool = await open_pool(database_url, max_size=2)
        try:
            with pytest.raises(SnapshotNotShared, match="could not import snapshot"):
                await Comparison(Quirks.legacy(), WEEK1_IGNORED)._capture_legacy(
                    pool, "00000003-0000001B-1", tenant.tenant_id, tenant.data_source_id, "sync-x", NOW)
        finally:
            await pool.close()

    asyncio.run(scenario())
