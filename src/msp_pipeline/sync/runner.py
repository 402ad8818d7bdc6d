"""One sync job = one page (batch) of one entity type of one data source: adapter ->
`fetched.{type}` -> processor -> `processed.{type}` -> linker -> `linked.{type}`.

Both paths run `SyncRunner.handle_job` (the legacy scheduler and the BullMQ worker); it
returns the next page's job, or None after the final batch. Each job takes one pool
connection, and its statements are counted (`BatchStats`, the batch log line).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from msp_pipeline.bus import Bus
from msp_pipeline.contract.events import LinkedEvent, trace_id
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.subjects import linked_subject
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.pool import db_session
from msp_pipeline.sync.adapter import check_job, fetch_page, stage_message
from msp_pipeline.sync.linker import link
from msp_pipeline.sync.processor import process_page


@dataclass(frozen=True)
class BatchStats:
    """What one batch did: for logs, tests and measurements."""

    job: SyncJobData
    rows: int
    changed: int
    dead_letters: int
    relationships_inserted: int
    relationships_deleted: int
    statements: int
    rows_read: int
    seconds: float
    is_final: bool


class SyncRunner:
    def __init__(self, pool: AsyncConnectionPool, bus: Bus, metrics: Metrics | None = None,
                 page_size: int = 100, on_batch: Callable[[BatchStats], None] | None = None) -> None:
        if page_size < 1:
            raise ValueError(f"page_size {page_size!r} must be at least 1")
        self.pool = pool
        self.bus = bus
        self.metrics = metrics
        self.page_size = page_size
        self.on_batch = on_batch

    async def handle_job(self, job: SyncJobData) -> SyncJobData | None:
        """Runs adapter, processor and linker for one page; returns the next page's job or
        None. Raises SyncError for a job that cannot run (unknown or inactive source)."""
        started = time.perf_counter()
        async with db_session(self.pool, self.metrics) as db, db.counting() as stats:
            await check_job(db, job)
            page = await fetch_page(db, job, self.page_size)
            await self._stage(f"fetched.{job.entityType}", job, "adapter", rows=len(page.rows))
            processed = await process_page(db, self.bus, job, page.rows)
            await self._stage(f"processed.{job.entityType}", job, "processor", changedEntityIds=processed.changed)
            linked = await link(db, tenant_id=job.tenantId, data_source_id=job.dataSourceId, sync_id=job.syncId,
                                entity_type=job.entityType, declared=processed.edges,
                                deleted_ids=processed.deleted_ids)
            if page.is_final:
                await db.execute("sync/record_sync", {"entity_type": job.entityType, "sync_id": job.syncId,
                                                      "data_source_id": job.dataSourceId})
        event = LinkedEvent.new(tenant_id=job.tenantId, data_source_id=job.dataSourceId,
                                entity_type=job.entityType, sync_id=job.syncId, changed=processed.changed,
                                batch_number=job.batchNumber, is_final=page.is_final,
                                trace_id=trace_id(job.syncId, "linker"))
        await self.bus.publish(linked_subject(job.entityType), event.to_json())
        batch = BatchStats(job, len(page.rows), len(processed.changed), processed.dead_letters,
                           linked.inserted, linked.deleted, stats.statements, stats.rows_read,
                           time.perf_counter() - started, page.is_final)
        log("SyncRunner", "batch", "batch synced", tenantId=job.tenantId, dataSourceId=job.dataSourceId,
            syncId=job.syncId, traceId=event.traceId, stage="linker", entityType=job.entityType,
            batchNumber=job.batchNumber, isFinalBatch=page.is_final, rows=batch.rows, changed=batch.changed,
            dead_letters=batch.dead_letters, relationships_inserted=batch.relationships_inserted,
            relationships_deleted=batch.relationships_deleted, queries=batch.statements,
            duration_ms=round(batch.seconds * 1000, 1))
        if self.on_batch:
            self.on_batch(batch)
        if page.is_final or page.cursor is None:
            return None
        return job.next_page(page.cursor)

    async def _stage(self, subject: str, job: SyncJobData, stage: str, **fields: object) -> None:
        message = stage_message(job, trace_id(job.syncId, stage), **fields)
        await self.bus.publish(subject, json.dumps(message, separators=(",", ":")).encode())
