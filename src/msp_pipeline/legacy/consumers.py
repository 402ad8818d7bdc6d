"""The `legacy-analyzers` role: four analyzers, each its own durable JetStream consumer on
linked.*, each debouncing per sync id (LEGACY_DEBOUNCE_S, 300 s in production) before it
runs — so one tenant sync, whose entity types carry their own sync ids, triggers several
analyses. Tenants routed to the unified analyzer are left alone."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from psycopg_pool import AsyncConnectionPool

from msp_pipeline.bus import Bus
from msp_pipeline.contract.events import AnalysisEvent, LinkedEvent
from msp_pipeline.contract.settings import Settings
from msp_pipeline.contract.subjects import durable_name, legacy_analysis_subject
from msp_pipeline.legacy.analysis import run_analyzer
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import open_pool

TRIGGER_TYPES = {
    "mfa": ("identities", "policies"),
    "policy": ("identities", "policies", "groups"),
    "license": ("identities", "licenses"),
    "stale": ("identities",),
}


class _Analyzer:
    """One analyzer: debounced per (tenant, data source, sync id)."""

    def __init__(self, name: str, owner: LegacyAnalyzers) -> None:
        self.name = name
        self.owner = owner
        self.pending: dict[tuple[str, str, str], tuple[asyncio.TimerHandle | None, LinkedEvent]] = {}
        self.running: set[asyncio.Task[None]] = set()

    async def on_event(self, event: LinkedEvent) -> None:
        if event.entityType not in TRIGGER_TYPES[self.name]:
            return
        if self.owner.routing.should_use_unified_analyzer(event.tenantId):
            return
        key = (event.tenantId, event.dataSourceId, event.syncId)
        previous = self.pending.get(key)
        if previous and previous[0]:
            previous[0].cancel()
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.owner.settings.legacy_debounce_s, self._fire, key)
        self.pending[key] = (handle, event)

    def _fire(self, key: tuple[str, str, str]) -> None:
        _, event = self.pending.pop(key)
        task = asyncio.create_task(self._analyse(event))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def flush(self) -> None:
        """On stop: run what is still debouncing now, then wait for everything."""
        for key, (handle, _) in list(self.pending.items()):
            if handle:
                handle.cancel()
            self._fire(key)
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)

    async def _analyse(self, event: LinkedEvent) -> None:
        owner = self.owner
        assert owner.pool is not None and owner.bus is not None
        try:
            stats = await run_analyzer(owner.pool, self.name, event.tenantId, event.dataSourceId,
                                       sync_id=event.syncId, now=datetime.now(timezone.utc),
                                       quirks=owner.settings.legacy_quirks, metrics=owner.metrics,
                                       trigger_event_at=event.created_at)
        except Exception as exc:  # counted and logged; the next sync analyses again
            owner.metrics.errors.labels(f"legacy-{self.name}", type(exc).__name__).inc()
            log("LegacyAnalyzers", "analysis-failed", f"{type(exc).__name__}: {exc}", level="error",
                analyzer=self.name, tenantId=event.tenantId, syncId=event.syncId)
            return
        by_type: dict[str, int] = {}
        for finding in stats.findings:
            by_type[finding.alert_type] = by_type.get(finding.alert_type, 0) + 1
        message = AnalysisEvent(event.tenantId, event.dataSourceId, event.syncId, event.traceId, "legacy",
                                self.name, by_type, stats.queries)
        await owner.bus.publish(legacy_analysis_subject(self.name, event.entityType), message.to_json())


class LegacyAnalyzers:
    def __init__(self, settings: Settings, metrics: Metrics, routing: Any) -> None:
        self.settings = settings
        self.metrics = metrics
        self.routing = routing
        self.pool: AsyncConnectionPool | None = None
        self.bus: Bus | None = None
        self.analyzers = [_Analyzer(name, self) for name in TRIGGER_TYPES]

    async def run(self, stop: asyncio.Event) -> None:
        self.pool = await open_pool(self.settings.database_url, max_size=6)
        self.bus = await Bus.connect(self.settings.nats_url, "legacy-analyzers", self.metrics,
                                     self.settings.max_message_bytes, self.settings.nats_namespace)
        try:
            await asyncio.gather(*(self.bus.consume_linked(durable_name(f"legacy-{a.name}"), a.on_event, stop)
                                   for a in self.analyzers))
            await asyncio.gather(*(a.flush() for a in self.analyzers))
        finally:
            await self.bus.close()
            await self.pool.close()
