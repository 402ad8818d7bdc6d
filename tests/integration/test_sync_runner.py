"""The sync stages against real Postgres and NATS JetStream: a tenant written into
graph_source becomes entities and relationships, linked.* events carry the batch numbers,
a re-sync of unchanged data rewrites nothing, a change updates only what changed, a bad
payload goes to deadletter.sync, and a job that cannot run raises SyncError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from msp_pipeline.bus import Bus
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.subjects import STREAM_NAME
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.pool import open_pool
from msp_pipeline.sync import BatchStats, SyncError, SyncRunner
from rollout_bench.tenants import load_tenants
from tests.support.sql import fetch_rows as _rows
from tests.support.sql import run_sql as _sql

pytestmark = pytest.mark.integration
PAGE = 8

RELATIONSHIPS_SQL = """
SELECT p.entity_type, p.external_id, c.entity_type, c.external_id, r.relationship_type
FROM entity_relationships r JOIN entities p ON p.id = r.parent_entity_id JOIN entities c ON c.id = r.child_entity_id
"""


async def _sync(database_url: str, nats_url: str, tenant: str, types: Sequence[str] = ENTITY_TYPES,
                sync_id: str = "s1", metrics: Metrics | None = None) -> list[BatchStats]:
    """Runs every page of each type, the way both paths chain next_page() jobs."""
    batches: list[BatchStats] = []
    pool = await open_pool(database_url, max_size=2)
    bus = await Bus.connect(nats_url, "test-sync", metrics)
    try:
        runner = SyncRunner(pool, bus, metrics, page_size=PAGE, on_batch=batches.append)
        for entity_type in types:
            job: SyncJobData | None = SyncJobData(tenant, f"ds-{tenant}", entity_type, sync_id)
            while job is not None:
                job = await runner.handle_job(job)
    finally:
        await bus.close()
        await pool.close()
    return batches


async def _stream_messages(nats_url: str, subject: str, expected: int) -> list[Any]:
    """Reads the messages of `subject` from JetStream with a consumer of its own."""
    bus = await Bus.connect(nats_url, "test-reader")
    try:
        sub = await bus.js.pull_subscribe(subject, stream=STREAM_NAME)
        messages: list[Any] = []
        while len(messages) < expected:
            messages += await sub.fetch(expected - len(messages), timeout=5)
        for message in messages:
            await message.ack()
        return messages
    finally:
        await bus.close()


def _fresh_tenant(database_url: str, seed: int) -> str:
    """A `small` tenant present only in graph_source (its entities and relationships removed)."""
    tenant = load_tenants(database_url, "small", 1, seed=seed).tenant_ids[0]
    _sql(database_url, "DELETE FROM entity_relationships", "DELETE FROM entities")
    return tenant


def test_sync_builds_what_the_loader_builds_and_announces_each_batch(database_url: str, nats_url: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=1).tenant_ids[0]
    want_entities = sorted(_rows(database_url, "SELECT entity_type, external_id, data_hash, normalized_data::text "
                                               "FROM entities"))
    want_relationships = sorted(_rows(database_url, RELATIONSHIPS_SQL))
    _sql(database_url, "DELETE FROM entity_relationships", "DELETE FROM entities")

    batches = asyncio.run(_sync(database_url, nats_url, tenant))

    assert sorted(_rows(database_url, "SELECT entity_type, external_id, data_hash, normalized_data::text "
                                      "FROM entities")) == want_entities
    assert sorted(_rows(database_url, RELATIONSHIPS_SQL)) == want_relationships
    events = [json.loads(m.data) for m in asyncio.run(_stream_messages(nats_url, "linked.>", len(batches)))]
    sizes = dict(_rows(database_url, "SELECT entity_type, count(*) FROM graph_source GROUP BY 1"))
    for entity_type in ENTITY_TYPES:
        mine = [e for e in events if e["entityType"] == entity_type]
        pages = -(-sizes[entity_type] // PAGE)
        assert [e["syncMetadata"]["batchNumber"] for e in mine] == list(range(pages))
        assert [e["syncMetadata"]["isFinalBatch"] for e in mine] == [False] * (pages - 1) + [True]
        assert sum(len(e["changedEntityIds"]) for e in mine) == sizes[entity_type]
        assert all(e["tenantId"] == tenant and e["dataSourceId"] == f"ds-{tenant}" and e["syncId"] == "s1"
                   and e["traceId"].startswith("s1_linker_") and e["createdAt"] for e in mine)
    [(last_sync, current)] = _rows(database_url, "SELECT last_sync_at, current_sync_id FROM data_sources")
    assert sorted(last_sync) == sorted(ENTITY_TYPES) and current == "s1"


def test_resync_of_unchanged_data_rewrites_nothing(database_url: str, nats_url: str) -> None:
    tenant = _fresh_tenant(database_url, seed=2)
    asyncio.run(_sync(database_url, nats_url, tenant))
    entities_before = _rows(database_url, "SELECT id, data_hash, updated_at FROM entities ORDER BY id")
    relationships_before = _rows(database_url, "SELECT id, sync_id FROM entity_relationships ORDER BY id")

    batches = asyncio.run(_sync(database_url, nats_url, tenant, sync_id="s2"))

    assert sum(b.changed + b.relationships_inserted + b.relationships_deleted for b in batches) == 0
    assert _rows(database_url, "SELECT id, data_hash, updated_at FROM entities ORDER BY id") == entities_before
    assert _rows(database_url, "SELECT id, sync_id FROM entity_relationships ORDER BY id") == relationships_before
    assert _rows(database_url, "SELECT DISTINCT sync_id FROM entities") == [("s2",)]  # last seen by s2


def test_a_changed_payload_updates_that_entity_only(database_url: str, nats_url: str) -> None:
    tenant = _fresh_tenant(database_url, seed=3)
    asyncio.run(_sync(database_url, nats_url, tenant))
    [(target,)] = _rows(database_url, "SELECT min(external_id) FROM graph_source WHERE entity_type = 'identities'")
    before = dict(_rows(database_url, "SELECT external_id, updated_at FROM entities"))
    _sql(database_url, "UPDATE graph_source SET payload = jsonb_set(payload, '{accountEnabled}', 'false') "
                       f"WHERE external_id = '{target}'")

    batches = asyncio.run(_sync(database_url, nats_url, tenant, types=("identities",), sync_id="s2"))

    assert sum(b.changed for b in batches) == 1
    after = dict(_rows(database_url, "SELECT external_id, updated_at FROM entities"))
    assert [ext for ext in after if after[ext] != before[ext]] == [target]
    assert _rows(database_url, f"SELECT normalized_data->>'enabled' FROM entities WHERE external_id = '{target}'") \
        == [("false",)]


def test_bad_payload_goes_to_the_dead_letter_and_the_rest_is_stored(database_url: str, nats_url: str) -> None:
    tenant = _fresh_tenant(database_url, seed=4)
    [(bad,)] = _rows(database_url, "SELECT min(external_id) FROM graph_source WHERE entity_type = 'identities'")
    _sql(database_url, f"UPDATE graph_source SET payload = payload - 'accountEnabled' WHERE external_id = '{bad}'")
    metrics = Metrics()

    batches = asyncio.run(_sync(database_url, nats_url, tenant, types=("identities",), metrics=metrics))

    assert sum(b.dead_letters for b in batches) == 1
    [letter] = asyncio.run(_stream_messages(nats_url, "deadletter.sync", 1))
    body = json.loads(letter.data)
    assert body["externalId"] == bad and "accountEnabled" in body["error"] and body["payload"]["id"] == bad
    assert "accountEnabled" in letter.headers["Pipeline-Dead-Letter-Reason"]
    assert metrics.registry.get_sample_value("pipeline_dead_letters_total",
                                             {"source": "sync", "reason": "invalid identities payload"}) == 1
    assert _rows(database_url, "SELECT count(*) FROM entities") == [(29,)]
    assert _rows(database_url, f"SELECT count(*) FROM entities WHERE external_id = '{bad}'") == [(0,)]


@pytest.mark.parametrize(("change", "job_tenant", "job_source", "reason"), [
    ("UPDATE data_sources SET deleted_at = now()", None, None, "is deleted"),
    ("UPDATE data_sources SET status = 'inactive'", None, None, "is inactive, not active"),
    ("UPDATE tenants SET status = 'suspended'", None, None, "is suspended, not active"),
    ("SELECT 1", None, "ds-missing", "'ds-missing' does not exist"),
    ("SELECT 1", "t-missing", None, "tenant 't-missing' does not exist"),
])
def test_a_job_that_cannot_run_raises_sync_error(database_url: str, nats_url: str, change: str,
                                                 job_tenant: str | None, job_source: str | None,
                                                 reason: str) -> None:
    tenant = load_tenants(database_url, "small", 1, seed=5).tenant_ids[0]
    _sql(database_url, change)

    async def run() -> None:
        pool = await open_pool(database_url, max_size=1)
        bus = await Bus.connect(nats_url, "test-sync")
        try:
            await SyncRunner(pool, bus, page_size=PAGE).handle_job(
                SyncJobData(job_tenant or tenant, job_source or f"ds-{tenant}", "identities", "s1"))
        finally:
            await bus.close()
            await pool.close()

    with pytest.raises(SyncError, match=reason):
        asyncio.run(run())
