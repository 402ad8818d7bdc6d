"""The unified-analyzer role end to end: linked events on JetStream in, analysis_runs rows,
alerts and analysis.unified events out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import nats
import psycopg
import pytest
import redis
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from psycopg.types.json import Jsonb

from msp_pipeline.bus import Bus
from msp_pipeline.comparison import MISMATCH_LIST
from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.contract.settings import Settings
from msp_pipeline.contract.subjects import (
    STREAM_NAME,
    UNIFIED_ANALYSIS_SUBJECT,
    linked_subject,
)
from msp_pipeline.metrics import Metrics
from msp_pipeline.migration import TenantMigration
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.unified.service import UnifiedAnalyzerService
from tests.integration.test_unified_context import HandTenant, build_tenant
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.integration
UNIFIED_ALL = TenantMigration(unified_enabled=True)


@dataclass
class Running:
    bus: Bus
    metrics: Metrics
    analysis_events: list[dict[str, Any]] = field(default_factory=list)

    async def publish_sync(self, tenant: HandTenant, sync_id: str, types: tuple[str, ...] = ENTITY_TYPES,
                           *, final: bool = True) -> list[LinkedEvent]:
        events = [LinkedEvent.new(tenant_id=tenant.tenant_id, data_source_id=tenant.data_source_id,
                                  entity_type=t, sync_id=sync_id, changed=[], is_final=final) for t in types]
        for event in events:
            await self.bus.publish(linked_subject(event.entityType), event.to_json())
        return events


@asynccontextmanager
async def running_service(env: dict[str, str], routing: TenantMigration, *, settle_s: float = 30.0,
                          extra_env: dict[str, str] | None = None) -> AsyncIterator[Running]:
    settings = Settings.from_env(env)
    metrics = Metrics()
    stop = asyncio.Event()
    service = UnifiedAnalyzerService(settings, metrics, routing, settle_s=settle_s, env=extra_env or {},
                                     poll_interval_s=0.05)
    task = asyncio.create_task(service.run(stop))
    bus = await Bus.connect(settings.nats_url, "test-publisher")
    watcher = await nats.connect(settings.nats_url)
    running = Running(bus, metrics)

    async def on_analysis(msg: Msg) -> None:
        running.analysis_events.append(json.loads(msg.data))

    try:
        await watcher.subscribe(UNIFIED_ANALYSIS_SUBJECT, cb=on_analysis)
        await async_wait_until(lambda: _consumer_ready(bus, task), timeout=10, what="unified-analyzer consumer")
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await watcher.close()
        await bus.close()


async def _consumer_ready(bus: Bus, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # surfaces the service's start-up error
    try:
        await bus.js.consumer_info(STREAM_NAME, "unified-analyzer")
        return True
    except NotFoundError:
        return False


def db_rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


def until_rows(database_url: str, query: str, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(db_rows(database_url, query)) >= n
    return check


def test_all_types_final_gives_one_analysis_and_one_event(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = build_tenant(database_url)

    async def scenario() -> None:
        async with running_service(pipeline_env, UNIFIED_ALL) as svc:
            events = await svc.publish_sync(tenant, "sync-a")
            await async_wait_until(lambda: _async(len(svc.analysis_events) == 1), timeout=10, what="analysis.unified")
            await svc.publish_sync(tenant, "sync-a", ("identities",))  # late duplicate: no second analysis
            await asyncio.sleep(0.3)  # give a wrong second analysis the chance to show up
            assert len(svc.analysis_events) == 1
            event = svc.analysis_events[0]
            assert (event["tenantId"], event["syncId"], event["path"], event["analyzer"]) == (
                tenant.tenant_id, "sync-a", "unified", "unified")
            assert event["queries"] == 6 and sum(event["findingsByType"].values()) == len(tenant.expected)
            runs = db_rows(database_url, "SELECT sync_id, trace_id, trigger_event_at, queries, comparison "
                                         "FROM analysis_runs")
            assert len(runs) == 1 and runs[0][0] == "sync-a" and runs[0][1] == event["traceId"]
            assert runs[0][2] == max(e.created_at for e in events)
            assert runs[0][3] == 6 and runs[0][4] is None
            assert svc.metrics.registry.get_sample_value(
                "pipeline_analysis_duration_seconds_count", {"analyzer_type": "unified"}) == 1

    asyncio.run(scenario())
    assert db_rows(database_url, "SELECT count(*) FROM entity_alerts WHERE status = 'active'") == [
        (len(tenant.expected),)]


def test_partial_sync_is_analysed_after_settle_window(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = build_tenant(database_url)

    async def scenario() -> None:
        async with running_service(pipeline_env, UNIFIED_ALL, settle_s=0.3) as svc:
            await svc.publish_sync(tenant, "sync-b", ("identities", "policies"))
            await svc.publish_sync(tenant, "sync-b", ("groups",), final=False)
            await async_wait_until(lambda: _async(len(svc.analysis_events) == 1), timeout=10, what="settled")
            assert db_rows(database_url, "SELECT sync_id FROM analysis_runs") == [("sync-b",)]

    asyncio.run(scenario())


def test_failed_analysis_is_retried_by_redelivery(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = build_tenant(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE provoke_seq")
        conn.execute("CREATE FUNCTION provoke_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF nextval('provoke_seq') = 1 THEN RAISE EXCEPTION 'provoked once'; END IF; "
                     "RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER provoke BEFORE INSERT ON analysis_runs "
                     "FOR EACH ROW EXECUTE FUNCTION provoke_once()")

    async def scenario() -> None:
        async with running_service(pipeline_env, UNIFIED_ALL) as svc:
            await svc.publish_sync(tenant, "sync-c")
            await async_wait_until(lambda: _async(len(svc.analysis_events) == 1), timeout=15, what="retried")
            assert svc.metrics.registry.get_sample_value(
                "pipeline_errors_total", {"module": "unified-analyzer", "error_type": "RaiseException"}) >= 1

    asyncio.run(scenario())
    assert db_rows(database_url, "SELECT sync_id FROM analysis_runs") == [("sync-c",)]
    assert db_rows(database_url, "SELECT count(*) FROM entity_alerts") == [(len(tenant.expected),)]


def test_comparison_for_a_legacy_tenant_records_without_alerts(pipeline_env: dict[str, str],
                                                                database_url: str) -> None:
    tenant = build_tenant(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:  # a report-only MFA policy for bob:
        conn.execute(  # legacy counts it (quirk mfa_ignores_policy_state), unified does not
            "INSERT INTO entities (tenant_id, data_source_id, entity_type, external_id, data_hash, raw_data, "
            "normalized_data) VALUES (%s, %s, 'policies', 'p-report', 'h', '{}', %s)",
            (tenant.tenant_id, tenant.data_source_id, Jsonb({
                "name": "MFA report-only", "status": "report-only", "include_users": ["bob-0"],
                "exclude_users": [], "include_groups": [], "exclude_groups": [], "include_applications": ["All"],
                "built_in_controls": ["mfa"]})))
    routing = TenantMigration(unified_enabled=True, unified_tenants=frozenset({"someone-else"}),
                              compare_analyzers=True)

    async def scenario() -> None:
        async with running_service(pipeline_env, routing) as svc:
            await svc.publish_sync(tenant, "sync-d")
            await async_wait_until(until_rows(database_url, "SELECT 1 FROM analysis_runs", 1), timeout=10,
                                   what="comparison row")
            await asyncio.sleep(0.2)
            assert svc.analysis_events == []  # legacy owns this tenant's alerts and events
            assert svc.metrics.registry.get_sample_value(
                "pipeline_comparison_mismatches_total", {"alert_type": "mfa_not_enforced"}) == 1

    asyncio.run(scenario())
    [(comparison,)] = db_rows(database_url, "SELECT comparison FROM analysis_runs")
    assert comparison["alertsWritten"] is False
    assert comparison["mismatched"] >= 1 and comparison["ignored"] >= 2
    assert db_rows(database_url, "SELECT count(*) FROM entity_alerts") == [(0,)]
    reported = redis.Redis.from_url(pipeline_env["REDIS_URL"])
    try:
        [kept] = reported.lrange(MISMATCH_LIST, 0, -1)
    finally:
        reported.close()
    assert json.loads(kept)["syncId"] == "sync-d"


def test_tenant_on_legacy_without_comparison_is_left_alone(pipeline_env: dict[str, str], database_url: str) -> None:
    tenant = build_tenant(database_url)

    async def scenario() -> None:
        async with running_service(pipeline_env, TenantMigration(), settle_s=0.1) as svc:
            await svc.publish_sync(tenant, "sync-e", ("identities",))
            info = await async_wait_until(lambda: _consumer_caught_up(svc.bus), timeout=10, what="events consumed")
            assert info
            await asyncio.sleep(0.3)  # past the settle window: still nothing
            assert svc.analysis_events == []

    asyncio.run(scenario())
    assert db_rows(database_url, "SELECT count(*) FROM analysis_runs") == [(0,)]


async def _consumer_caught_up(bus: Bus) -> bool:
    info = await bus.js.consumer_info(STREAM_NAME, "unified-analyzer")
    return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0


async def _async(value: Any) -> Any:
    return value
