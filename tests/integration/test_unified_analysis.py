"""Unified analysis: exactly the planted findings, and a fixed number of statements per
analysis whatever the tenant size (counted by Db and cross-checked in analysis_runs)."""

from __future__ import annotations

import importlib.util

import pytest

from msp_pipeline.analysis import AnalysisOutcome
from msp_pipeline.unified import COMPARISON_ONLY_QUERIES, UNIFIED_QUERIES
from tests.integration.test_unified_alerts import analyse, rows
from tests.integration.test_unified_context import HandTenant, build_tenant

pytestmark = pytest.mark.integration
MAX_QUERIES = 8


def found(outcome: AnalysisOutcome) -> list[tuple[str, str, str, str]]:
    return sorted((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in outcome.findings)


def test_small_tenant_exact_planted_findings(database_url: str) -> None:
    tenant = build_tenant(database_url, copies=3)
    outcome = analyse(database_url, tenant, "sync-1")
    assert found(outcome) == tenant.expected
    assert outcome.path == "unified" and outcome.findings_by_type()["license_overuse"] == 1
    assert [a.name for a in outcome.per_analyzer] == ["context-loader", "unified-rules", "unified-alert-manager"]
    assert sum(a.queries for a in outcome.per_analyzer) == outcome.queries


def test_queries_fixed_and_equal_across_sizes(database_url: str) -> None:
    counts: dict[int, tuple[int, int]] = {}
    for copies in (1, 10, 100):
        tenant = build_tenant(database_url, f"t-{copies}x", copies=copies)
        outcome = analyse(database_url, tenant, f"sync-{copies}")
        assert found(outcome) == tenant.expected
        counts[copies] = (outcome.queries, outcome.rows_read)
        recorded = rows(database_url, "SELECT queries, rows_read, findings FROM analysis_runs WHERE sync_id = %s",
                        f"sync-{copies}")
        assert recorded == [(outcome.queries, outcome.rows_read, len(tenant.expected))]
    assert {queries for queries, _ in counts.values()} == {UNIFIED_QUERIES}
    assert UNIFIED_QUERIES <= MAX_QUERIES
    assert counts[1][1] < counts[10][1] < counts[100][1]  # rows grow, statements do not


def test_comparison_only_queries_fixed(database_url: str) -> None:
    for copies in (1, 20):
        tenant = build_tenant(database_url, f"t-{copies}x", copies=copies)
        outcome = analyse(database_url, tenant, f"sync-{copies}", write_alerts=False)
        assert outcome.queries == COMPARISON_ONLY_QUERIES


@pytest.mark.skipif(importlib.util.find_spec("rollout_bench.tenants") is None,
                    reason="rollout_bench.tenants (the generator) is not there")
@pytest.mark.parametrize("profile", ["worked-example", "small", "10x", "100x"])
def test_generated_profiles_planted_findings_and_equal_queries(database_url: str, profile: str) -> None:
    from rollout_bench.tenants import generate_tenant, load_profile, load_tenants

    report = load_tenants(database_url, profile, 1, 7)
    tenant = generate_tenant(load_profile(profile), 7, 0, report.as_of)
    outcome = analyse(database_url, HandTenant(tenant.tenant_id, tenant.data_source_id, []), "sync-generated",
                      now=report.as_of)
    want = sorted((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in tenant.expected_findings)
    assert found(outcome) == want
    assert outcome.queries == UNIFIED_QUERIES  # the same for every profile
