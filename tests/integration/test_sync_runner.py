"""The sync stages against real Postgres and NATS: entities and relationships from
graph_source, linked.* events with batch numbers, unchanged data not rewritten."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from msp_pipeline.bus import Bus
from msp_pipeline.jobs import SyncJobData
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.pool import open_pool
from msp_pipeline.sync import SyncError, SyncRunner
from rollout_bench.tenants import load_tenants

pytestmark = pytest.mark.integration


async def _sync_all(database_url: str, nats_url: str, tenant: str, types=ENTITY_TYPES, page_size: int = 40,
                    sync_id: str = "s1") -> list[dict]:
    pool = await open_pool(database_url, max_size=2)
    bus = await Bus.connect(nats_url, "test-sync")
    linked: list[dict] = []

    async def collect(msg) -> None:
        linked.append(json.loads(msg.data))

    sub = await bus.nc.subscribe("linked.>", cb=collect)
    try:
        runner = SyncRunner(pool, bus, page_size=page_size)
        for entity_type in types:
            job: SyncJobData | None = SyncJobData(tenant, f"ds-{tenant}", entity_type, sync_id)
            while job is not None:
                job = await runner.handle_job(job)
        await bus.nc.flush()
        await asyncio.sleep(0)
    finally:
        await sub.unsubscribe()
        await bus.close()
        await pool.close()
    return linked


def _counts(database_url: str) -> tuple[dict, dict]:
    with psycopg.connect(database_url) as conn:
        entities = dict(conn.execute("SELECT entity_type, count(*) FROM entities WHERE deleted_at IS NULL GROUP BY 1"))
        rels = dict(conn.execute("SELECT relationship_type, count(*) FROM entity_relationships GROUP BY 1"))
    return entities, rels


def test_sync_rebuilds_what_the_loader_wrote(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "worked-example", 1, seed=1).tenant_ids[0]
    want = _counts(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM entity_relationships")
        conn.execute("DELETE FROM entities")
    linked = asyncio.run(_sync_all(database_url, nats_url, tenant))
    assert _counts(database_url) == want
    identity_batches = [e["syncMetadata"] for e in linked if e["entityType"] == "identities"]
    assert [b["batchNumber"] for b in identity_batches] == [0, 1, 2, 3]
    assert [b["isFinalBatch"] for b in identity_batches] == [False, False, False, True]


def test_resync_of_unchanged_data_changes_nothing(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=2).tenant_ids[0]
    linked = asyncio.run(_sync_all(database_url, nats_url, tenant, types=("identities", "groups")))
    assert all(e["changedEntityIds"] == [] for e in linked)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE graph_source SET payload = jsonb_set(payload, '{accountEnabled}', 'false') "
                     "WHERE external_id = (SELECT min(external_id) FROM graph_source WHERE entity_type = 'identities')")
    linked = asyncio.run(_sync_all(database_url, nats_url, tenant, types=("identities",), sync_id="s2"))
    assert sum(len(e["changedEntityIds"]) for e in linked) == 1


def test_bad_payload_goes_to_dead_letter_and_the_rest_is_stored(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=3).tenant_ids[0]
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM entity_relationships")
        conn.execute("DELETE FROM entities WHERE entity_type = 'identities'")
        conn.execute("UPDATE graph_source SET payload = payload - 'accountEnabled' "
                     "WHERE external_id = (SELECT min(external_id) FROM graph_source WHERE entity_type = 'identities')")

    async def run() -> int:
        await _sync_all(database_url, nats_url, tenant, types=("identities",))
        bus = await Bus.connect(nats_url, "test-dl")
        info = await bus.js.stream_info("PIPELINE", subjects_filter="deadletter.>")
        await bus.close()
        return sum((info.state.subjects or {}).values())

    assert asyncio.run(run()) == 1
    assert _counts(database_url)[0]["identities"] == 29


def test_job_for_inactive_data_source_is_refused(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=4).tenant_ids[0]
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE data_sources SET status = 'inactive'")
    with pytest.raises(SyncError, match="inactive"):
        asyncio.run(_sync_all(database_url, nats_url, tenant, types=("identities",)))
