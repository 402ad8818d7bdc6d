"""Each test-only loader fault, switched on through PIPELINE_TEST_FAULT in the real
unified-analyzer service (JetStream, Redis, Postgres) in comparison mode, is reported as
mismatches naming the affected entities, and week 1's comparison gate holds the rollout."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from msp_pipeline.migration import TenantMigration
from rollout_bench.collect.comparison import comparison_figures
from rollout_bench.judge.gates import evaluate, load_gates
from rollout_bench.judge.verdict import decide
from rollout_bench.load.weeks import KNOWN_QUIRKS
from rollout_bench.paths import gates_file
from tests.integration.test_unified_context import build_tenant
from tests.integration.test_unified_service import db_rows, running_service, until_rows
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.integration
WEEK1 = TenantMigration(unified_enabled=True, compare_analyzers=True)
SYNCS = 10  # the week-1 comparison gate needs 10 compared analyses


def week1_comparison_verdict(database_url: str) -> tuple[str, dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        figures = comparison_figures(conn)
    [gate] = [g for g in load_gates(gates_file()) if g.applies_to(1) and g.expression.left == "comparison.mismatched"]
    return decide([evaluate(gate, {"comparison": figures})]).verdict, figures


def run_week1_syncs(pipeline_env: dict[str, str], database_url: str, fault: str | None) -> None:
    tenant = build_tenant(database_url, copies=3)
    extra = {"COMPARISON_IGNORE": KNOWN_QUIRKS, **({"PIPELINE_TEST_FAULT": fault} if fault else {})}

    async def scenario() -> None:
        async with running_service(pipeline_env, WEEK1, extra_env=extra) as svc:
            for n in range(SYNCS):
                await svc.publish_sync(tenant, f"sync-{n}")
            await async_wait_until(until_rows(database_url, "SELECT 1 FROM analysis_runs", SYNCS), timeout=30,
                                   what=f"{SYNCS} compared analyses")

    asyncio.run(scenario())


def mismatched_entities(database_url: str) -> set[tuple[str, str]]:
    return {(m["entity"], m["side"]) for (record,) in db_rows(database_url, "SELECT comparison FROM analysis_runs")
            for m in record["mismatches"]}


def test_without_a_fault_week1_comparison_passes(pipeline_env: dict[str, str], database_url: str) -> None:
    run_week1_syncs(pipeline_env, database_url, None)
    verdict, figures = week1_comparison_verdict(database_url)
    assert (verdict, figures["mismatched"], figures["analyses"], figures["raced"]) == ("PROMOTE", 0, SYNCS, 0)
    assert figures["cost"]["legacy"]["analyses"] == SYNCS and figures["cost"]["reduction"] > 0.8


def test_unified_loader_fault_is_caught_and_holds(pipeline_env: dict[str, str], database_url: str) -> None:
    run_week1_syncs(pipeline_env, database_url, "unified-drop-group-members:partial-1")
    verdict, figures = week1_comparison_verdict(database_url)
    assert verdict == "HOLD" and figures["analyses_mismatched"] == SYNCS
    assert mismatched_entities(database_url) == {("erin-1", "unified-only"), ("erin-1", "legacy-only")}
    assert figures["by_type"]["mfa_not_enforced"] == {"legacy-only": 0, "unified-only": SYNCS}
    assert {e["entity"] for e in figures["examples"]} == {"erin-1"}


def test_legacy_loader_fault_is_caught_and_holds(pipeline_env: dict[str, str], database_url: str) -> None:
    run_week1_syncs(pipeline_env, database_url, "legacy-skip-page:2")
    skipped = {ext for (ext,) in db_rows(database_url, "SELECT external_id FROM entities "
                                                       "WHERE entity_type = 'identities' ORDER BY id OFFSET 10")}
    verdict, figures = week1_comparison_verdict(database_url)
    assert verdict == "HOLD" and figures["mismatched"] > 0
    entities = mismatched_entities(database_url)
    assert entities and {side for _, side in entities} == {"unified-only"}
    assert {entity for entity, _ in entities} <= skipped
