"""The legacy analyzers against real Postgres: planted findings found (quirks off), the
N+1 cost the plan describes, and the MFA resolve bug (legacy) against the fix (unified)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone

import psycopg
import pytest

from msp_pipeline.legacy import run_legacy_analysis
from msp_pipeline.pool import open_pool
from msp_pipeline.rules import Quirks
from msp_pipeline.unified import run_unified_analysis
from rollout_bench.tenants import generate_tenant, load_profile, load_tenants

pytestmark = pytest.mark.integration
NOW = datetime.now(timezone.utc)


def _analyse(database_url: str, tenant: str, quirks: Quirks, path: str = "legacy"):
    async def run():
        pool = await open_pool(database_url, max_size=2)
        try:
            if path == "legacy":
                return await run_legacy_analysis(pool, tenant, f"ds-{tenant}", sync_id="s", now=NOW, quirks=quirks)
            return await run_unified_analysis(pool, tenant, f"ds-{tenant}", sync_id="s", now=NOW)
        finally:
            await pool.close()

    return asyncio.run(run())


def _keys(findings) -> Counter:
    return Counter((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in findings)


@pytest.mark.parametrize("profile", ["worked-example", "small"])
def test_legacy_without_quirks_finds_the_planted_findings(database_url: str, profile: str) -> None:
    report = load_tenants(database_url, profile, 1, seed=5)
    expected = generate_tenant(load_profile(profile), 5, 0, report.as_of).expected_findings
    outcome = _analyse(database_url, report.tenant_ids[0], Quirks())
    assert _keys(outcome.findings) == _keys(expected)


def test_worked_example_costs_800_statements_or_more(database_url: str) -> None:
    tenant = load_tenants(database_url, "worked-example", 1, seed=1).tenant_ids[0]
    outcome = _analyse(database_url, tenant, Quirks())
    per = {a.name: a.queries for a in outcome.per_analyzer}
    assert outcome.queries >= 800
    assert per["policy"] >= 452  # 2 + 150 membership queries + 300 gets, plus its alert writes
    assert per["stale"] >= 1
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT analyzer, queries FROM analysis_runs WHERE path = 'legacy'").fetchall()
    assert dict(rows) == per


def _toggle_mfa_exclusion(database_url: str, tenant: str, user: str, excluded: bool) -> None:
    op = "|| to_jsonb(%(user)s::text)" if excluded else "- %(user)s::text"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE entities SET normalized_data = jsonb_set(normalized_data, '{exclude_users}', "
            f"(normalized_data -> 'exclude_users') {op}) "
            "WHERE tenant_id = %(tenant)s AND entity_type = 'policies' "
            "AND normalized_data ->> 'name' = 'Require MFA for all users'", {"user": user, "tenant": tenant})


def _mfa_alert_status(database_url: str, user: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT a.status FROM entity_alerts a JOIN entities e ON e.id = a.entity_id "
            "WHERE e.external_id = %s AND a.alert_type = 'mfa_not_enforced' ORDER BY a.id", (user,))]


@pytest.mark.parametrize("path", ["legacy", "unified"])
def test_mfa_resolve_bug(database_url: str, path: str) -> None:
    report = load_tenants(database_url, "small", 1, seed=6)
    tenant_id = report.tenant_ids[0]
    tenant = generate_tenant(load_profile("small"), 6, 0, report.as_of)
    healthy = next(p["id"] for p in tenant.payloads["identities"]
                   if p["accountEnabled"] and not any(f.entity_external_id == p["id"] for f in tenant.expected_findings))
    quirks = Quirks(mfa_resolve_bug=True)
    _toggle_mfa_exclusion(database_url, tenant_id, healthy, excluded=True)
    _analyse(database_url, tenant_id, quirks, path)
    assert _mfa_alert_status(database_url, healthy) == ["active"]
    _toggle_mfa_exclusion(database_url, tenant_id, healthy, excluded=False)
    _analyse(database_url, tenant_id, quirks, path)
    if path == "legacy":
        assert _mfa_alert_status(database_url, healthy) == ["active"], "legacy never resolves it (the MFA bug)"
    else:
        assert _mfa_alert_status(database_url, healthy) == ["resolved"]
        with psycopg.connect(database_url) as conn:
            history = conn.execute(
                "SELECT h.new_status FROM entity_alert_history h JOIN entity_alerts a ON a.id = h.alert_id "
                "JOIN entities e ON e.id = a.entity_id WHERE e.external_id = %s ORDER BY h.id", (healthy,)).fetchall()
        assert [h[0] for h in history] == ["active", "resolved"]
