"""The linker against real Postgres: relationships do not depend on the order entity types
are synced in, follow payload changes, leave with a deleted entity, and a page costs the
same number of statements whatever its size (bulk, no per-relationship query)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from msp_pipeline.bus import Bus
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.pool import open_pool
from msp_pipeline.sync import BatchStats, SyncRunner
from rollout_bench.tenants import load_tenants
from tests.support.sql import fetch_rows as _rows
from tests.support.sql import run_sql as _sql

pytestmark = pytest.mark.integration

RELATIONSHIPS_SQL = """
SELECT p.entity_type, p.external_id, c.entity_type, c.external_id, r.relationship_type
FROM entity_relationships r JOIN entities p ON p.id = r.parent_entity_id JOIN entities c ON c.id = r.child_entity_id
"""


async def _sync(database_url: str, nats_url: str, tenant: str, types: Sequence[str], sync_id: str,
                page_size: int = 10) -> list[BatchStats]:
    batches: list[BatchStats] = []
    pool = await open_pool(database_url, max_size=1)
    bus = await Bus.connect(nats_url, "test-link")
    try:
        runner = SyncRunner(pool, bus, page_size=page_size, on_batch=batches.append)
        for entity_type in types:
            job: SyncJobData | None = SyncJobData(tenant, f"ds-{tenant}", entity_type, sync_id)
            while job is not None:
                job = await runner.handle_job(job)
    finally:
        await bus.close()
        await pool.close()
    return batches


def _relationships(database_url: str) -> set[tuple[Any, ...]]:
    return set(_rows(database_url, RELATIONSHIPS_SQL))


@pytest.mark.parametrize("order", [tuple(reversed(ENTITY_TYPES)), ("groups", "licenses", "identities", "policies",
                                                                   "roles")])
def test_relationships_do_not_depend_on_the_sync_order(database_url: str, nats_url: str,
                                                       order: tuple[str, ...]) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=11).tenant_ids[0]
    want = _relationships(database_url)
    _sql(database_url, "DELETE FROM entity_relationships", "DELETE FROM entities")

    asyncio.run(_sync(database_url, nats_url, tenant, order, "s1"))

    assert _relationships(database_url) == want


def test_relationships_follow_payload_changes(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=12).tenant_ids[0]
    [(holder, sku)] = _rows(database_url, "SELECT external_id, payload->'assignedLicenses'->0->>'skuId' "
                                          "FROM graph_source WHERE entity_type = 'identities' "
                                          "AND jsonb_array_length(payload->'assignedLicenses') > 0 "
                                          "ORDER BY external_id LIMIT 1")
    [(group, leaver)] = _rows(database_url, "SELECT external_id, payload->'members'->>0 FROM graph_source "
                                            "WHERE entity_type = 'groups' AND jsonb_array_length(payload->'members') > 0 "
                                            "ORDER BY external_id LIMIT 1")
    [(joiner,)] = _rows(database_url, "SELECT min(external_id) FROM graph_source WHERE entity_type = 'identities' "
                                      f"AND NOT EXISTS (SELECT 1 FROM graph_source g WHERE g.external_id = '{group}' "
                                      "AND g.payload->'members' ? graph_source.external_id)")
    before = _relationships(database_url)
    _sql(database_url,
         "UPDATE graph_source SET payload = jsonb_set(payload, '{assignedLicenses}', '[]') "
         f"WHERE external_id = '{holder}'",
         f"UPDATE graph_source SET payload = jsonb_set(payload, '{{members}}', (payload->'members') - '{leaver}' "
         f"|| '[\"{joiner}\"]'::jsonb) WHERE external_id = '{group}'")

    batches = asyncio.run(_sync(database_url, nats_url, tenant, ("identities", "groups"), "s2"))

    held = {r for r in before if r[4] == "has_license" and r[3] == holder}
    assert sku in {r[1] for r in held}
    want = (before - held - {("groups", group, "identities", leaver, "member_of")}) \
        | {("groups", group, "identities", joiner, "member_of")}
    assert _relationships(database_url) == want
    assert sum(b.relationships_deleted for b in batches) == len(held) + 1
    assert sum(b.relationships_inserted for b in batches) == 1


def test_a_deleted_entity_loses_its_relationships_and_regains_them_when_back(database_url: str,
                                                                            nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=13).tenant_ids[0]
    before = _relationships(database_url)
    [(gone,)] = _rows(database_url, "SELECT c.external_id FROM entity_relationships r "
                                    "JOIN entities c ON c.id = r.child_entity_id "
                                    "WHERE r.relationship_type = 'member_of' ORDER BY 1 LIMIT 1")
    _sql(database_url, f"UPDATE graph_source SET deleted = true WHERE external_id = '{gone}'")

    batches = asyncio.run(_sync(database_url, nats_url, tenant, ("identities",), "s2"))

    assert sum(b.changed for b in batches) == 1
    assert _rows(database_url, f"SELECT deleted_at IS NOT NULL FROM entities WHERE external_id = '{gone}'") \
        == [(True,)]
    assert _relationships(database_url) == {r for r in before if gone not in (r[1], r[3])}
    _sql(database_url, f"UPDATE graph_source SET deleted = false WHERE external_id = '{gone}'")

    asyncio.run(_sync(database_url, nats_url, tenant, ("identities",), "s3"))

    assert _rows(database_url, f"SELECT deleted_at FROM entities WHERE external_id = '{gone}'") == [(None,)]
    assert _relationships(database_url) == before


def test_a_page_costs_the_same_statements_whatever_its_size(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=14).tenant_ids[0]
    per_page: dict[int, set[int]] = {}
    for page_size in (5, 30):
        batches = asyncio.run(_sync(database_url, nats_url, tenant, ("identities", "groups"), f"s{page_size}",
                                    page_size=page_size))
        per_page[page_size] = {b.statements - int(b.is_final) for b in batches}
    assert per_page[5] == per_page[30]
