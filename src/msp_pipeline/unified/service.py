"""The `unified-analyzer` process role: one durable consumer on `linked.>`, one analysis
per sync, one `analysis.unified` event per analysed sync.

A sync is analysed when all five entity types delivered their final batch, or when
UNIFIED_SETTLE_S (default 5 s) passed since its last event without that happening.
Tenants: analysed with alerts when routed to the unified analyzer; with COMPARE_ANALYZERS
every tenant is also compared: the four legacy analyzers run too, on the same snapshot and
without writing (`unified.comparing`), the result kept in analysis_runs.comparison and
mismatches reported, but a tenant routed to legacy gets no alert written (and no
analysis.unified event: legacy owns its alerts). PIPELINE_TEST_FAULT (test-only, see
`msp_pipeline.faults`) is read at start-up.
A failed analysis is retried: through redelivery when it ran in the event handler (the
handler raises), or after the settle window when the settle loop ran it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from contextlib import AsyncExitStack
from datetime import datetime, timezone
from typing import Protocol

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from redis.exceptions import RedisError

from msp_pipeline.bus import Bus
from msp_pipeline.comparison import MismatchReporter
from msp_pipeline.contract.events import AnalysisEvent, LinkedEvent
from msp_pipeline.contract.settings import Settings, parse_number
from msp_pipeline.contract.subjects import (
    LINKED_WILDCARD,
    UNIFIED_ANALYSIS_SUBJECT,
    durable_name,
)
from msp_pipeline.faults import parse_test_fault
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.pool import open_pool
from msp_pipeline.unified.analysis import run_unified_analysis
from msp_pipeline.unified.comparing import Comparison, ignored_quirks
from msp_pipeline.unified.sync_tracker import MAX_FAILURES, SyncTracker, sync_member

CONSUMER = "unified-analyzer"
SETTLE_ENV = "UNIFIED_SETTLE_S"
DEFAULT_SETTLE_S = 5.0


class AnalyzerRouting(Protocol):
    compare_analyzers: bool

    def should_use_unified_analyzer(self, tenant_id: str | None) -> bool: ...


class UnifiedAnalyzerService:
    def __init__(self, settings: Settings, metrics: Metrics, routing: AnalyzerRouting, *,
                 settle_s: float | None = None, env: Mapping[str, str] | None = None,
                 poll_interval_s: float = 0.25) -> None:
        environment = os.environ if env is None else env
        self.settings = settings
        self.metrics = metrics
        self.routing = routing
        self.settle_s = settle_s if settle_s is not None else parse_number(
            environment, SETTLE_ENV, DEFAULT_SETTLE_S, low=0, high=3600)
        self.ignored = ignored_quirks(environment)
        self.test_fault = parse_test_fault(environment)
        self.poll_interval_s = poll_interval_s
        self._pool: AsyncConnectionPool | None = None
        self._bus: Bus | None = None
        self._tracker: SyncTracker | None = None
        self._reporter: MismatchReporter | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consumes until `stop` is set; in-hand events are finished, pending syncs stay in
        Redis for the next process."""
        s = self.settings
        async with AsyncExitStack() as resources:
            redis = Redis.from_url(s.redis_url)
            resources.push_async_callback(redis.aclose)
            self._bus = await Bus.connect(s.nats_url, CONSUMER, self.metrics, s.max_message_bytes, s.nats_namespace)
            resources.push_async_callback(self._bus.close)
            self._pool = await open_pool(s.database_url, max_size=6)  # a compared analysis holds two
            resources.push_async_callback(self._pool.close)
            self._tracker = SyncTracker(redis, f"{s.bullmq_prefix}:{CONSUMER}")
            self._reporter = MismatchReporter(self.metrics, redis, s.comparison_webhook_url)
            settle_task = asyncio.create_task(self._settle_loop(stop), name="unified-settle")
            log("UnifiedAnalyzer", "start", f"consuming {LINKED_WILDCARD}", settle_s=self.settle_s,
                compare=self.routing.compare_analyzers, ignored_quirks=sorted(self.ignored),
                test_fault=self.test_fault.kind if self.test_fault else None)
            try:
                await self._bus.consume_linked(durable_name(CONSUMER), self.handle_event, stop,
                                               subject=LINKED_WILDCARD)
            finally:
                if not stop.is_set():  # the consumer failed: stop now; else let an analysis in hand finish
                    settle_task.cancel()
                [outcome] = await asyncio.gather(settle_task, return_exceptions=True)
                if isinstance(outcome, Exception):
                    log("UnifiedAnalyzer", "settle-loop", f"ended by {type(outcome).__name__}: {outcome}",
                        level="error")
                log("UnifiedAnalyzer", "stop", "consumer closed")

    def _wanted(self, tenant_id: str) -> bool:
        return self.routing.should_use_unified_analyzer(tenant_id) or self.routing.compare_analyzers

    async def handle_event(self, event: LinkedEvent) -> None:
        """Bus handler: raising makes the bus redeliver the event later."""
        assert self._tracker is not None
        if not self._wanted(event.tenantId):
            return
        final = await self._tracker.record(event)
        if final < 0:
            log("UnifiedAnalyzer", "late-event", f"{event.entityType} event of a sync already analysed",
                tenantId=event.tenantId, syncId=event.syncId, eventId=event.eventId)
            return
        if final == len(ENTITY_TYPES):
            await self._analyse_if_claimed(sync_member(event.tenantId, event.syncId), raise_errors=True)

    async def _settle_loop(self, stop: asyncio.Event) -> None:
        assert self._tracker is not None
        while not stop.is_set():
            try:
                for member in await self._tracker.due(self.settle_s):
                    await self._analyse_if_claimed(member, raise_errors=False)
            except (RedisError, OSError) as exc:
                log("UnifiedAnalyzer", "settle-loop", f"{type(exc).__name__}: {exc}", level="error")
                self.metrics.errors.labels(CONSUMER, type(exc).__name__).inc()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.poll_interval_s)
            except asyncio.TimeoutError:
                continue

    async def _analyse_if_claimed(self, member: str, *, raise_errors: bool) -> None:
        assert self._tracker is not None
        if not await self._tracker.claim(member):
            return  # another handler or process has it
        pending = await self._tracker.info(member)
        try:
            await self._analyse(pending.tenant_id, pending.sync_id, pending.data_source_id, pending.last_event_at,
                                len(pending.final_types))
        except Exception as exc:
            failures = await self._tracker.release(member)
            self.metrics.errors.labels(CONSUMER, type(exc).__name__).inc()
            gave_up = failures >= MAX_FAILURES
            if gave_up:
                self.metrics.dead_letters.labels("linked", "unified analysis failed").inc()
            log("UnifiedAnalyzer", "analysis-failed", f"{type(exc).__name__}: {exc}", level="error",
                tenantId=pending.tenant_id, syncId=pending.sync_id, failures=failures, gave_up=gave_up)
            if raise_errors:
                raise
            return
        await self._tracker.finish(member)

    async def _analyse(self, tenant_id: str, sync_id: str, data_source_id: str,
                       trigger_event_at: datetime | None, final_types: int) -> None:
        assert self._pool is not None and self._bus is not None and self._reporter is not None
        if not data_source_id:
            raise ValueError(f"sync {sync_id!r} of tenant {tenant_id!r} has no data source on record")
        write_alerts = self.routing.should_use_unified_analyzer(tenant_id)
        comparison = (Comparison(self.settings.legacy_quirks, self.ignored, self.test_fault)
                      if self.routing.compare_analyzers else None)
        outcome = await run_unified_analysis(
            self._pool, tenant_id, data_source_id, sync_id=sync_id, now=datetime.now(timezone.utc),
            metrics=self.metrics, trigger_event_at=trigger_event_at, write_alerts=write_alerts,
            comparison=comparison, fault=self.test_fault)
        if comparison:
            await comparison.report(self._reporter, tenant_id, sync_id)
        if write_alerts:
            event = AnalysisEvent(tenant_id, data_source_id, sync_id, outcome.trace_id, "unified", "unified",
                                  outcome.findings_by_type(), outcome.queries)
            await self._bus.publish(UNIFIED_ANALYSIS_SUBJECT, event.to_json())
        log("UnifiedAnalyzer", "sync-analysed", f"sync {sync_id} ({final_types}/{len(ENTITY_TYPES)} types final)",
            tenantId=tenant_id, syncId=sync_id, dataSourceId=data_source_id, traceId=outcome.trace_id,
            write_alerts=write_alerts, compared=comparison is not None)
