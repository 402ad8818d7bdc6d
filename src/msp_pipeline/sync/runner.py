"""One sync job = one page (batch) of one entity type of one data source."""

from __future__ import annotations

import json
import time
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..bus import Bus
from ..db import Db
from ..events import LinkedEvent, trace_id
from ..jobs import SyncJobData
from ..log import log
from ..metrics import Metrics
from ..model import PayloadError, normalize, payload_hash, relationships_of
from ..pool import db_session
from ..subjects import linked_subject
from .linker import Edge, link


class SyncError(Exception):
    """A job that cannot run: its data source or tenant is missing, deleted or not active."""


class SyncRunner:
    def __init__(self, pool: AsyncConnectionPool, bus: Bus, metrics: Metrics | None = None,
                 page_size: int = 100) -> None:
        self.pool = pool
        self.bus = bus
        self.metrics = metrics
        self.page_size = page_size

    async def handle_job(self, job: SyncJobData) -> SyncJobData | None:
        """Runs adapter, processor and linker for one page; returns the next page's job."""
        started = time.perf_counter()
        async with db_session(self.pool, self.metrics) as db:
            await self._check_source(db, job)
            page = await db.fetch("sync/graph_page", {
                "data_source_id": job.dataSourceId, "entity_type": job.entityType,
                "cursor": job.cursor or "", "limit": self.page_size + 1})
            has_more = len(page) > self.page_size
            page = page[: self.page_size]
            stage = {"tenantId": job.tenantId, "syncId": job.syncId, "batchNumber": job.batchNumber}
            await self.bus.publish(f"fetched.{job.entityType}", json.dumps({**stage, "count": len(page)}).encode())
            changed = await self._process(db, job, page)
            await self.bus.publish(f"processed.{job.entityType}",
                                   json.dumps({**stage, "changed": len(changed)}).encode())
            await self._link(db, job, page)
            if not has_more:
                await db.execute("sync/record_sync", {"entity_type": job.entityType, "sync_id": job.syncId,
                                                      "data_source_id": job.dataSourceId})
        event = LinkedEvent.new(tenant_id=job.tenantId, data_source_id=job.dataSourceId,
                                entity_type=job.entityType, sync_id=job.syncId, changed=changed,
                                batch_number=job.batchNumber, is_final=not has_more,
                                trace_id=trace_id(job.syncId, "linker"))
        await self.bus.publish(linked_subject(job.entityType), event.to_json())
        log("SyncRunner", "batch", "synced", tenantId=job.tenantId, dataSourceId=job.dataSourceId,
            syncId=job.syncId, stage="linker", entityType=job.entityType, batchNumber=job.batchNumber,
            changed=len(changed), duration_ms=round((time.perf_counter() - started) * 1000, 1))
        return job.next_page(str(page[-1][0])) if has_more and page else None

    async def _check_source(self, db: Db, job: SyncJobData) -> None:
        rows = await db.fetch("sync/data_source", (job.dataSourceId,))
        if not rows:
            raise SyncError(f"data source {job.dataSourceId!r} does not exist")
        tenant_id, status, deleted, tenant_status = rows[0]
        if tenant_id != job.tenantId:
            raise SyncError(f"data source {job.dataSourceId!r} belongs to {tenant_id!r}, not {job.tenantId!r}")
        if deleted or status != "active":
            raise SyncError(f"data source {job.dataSourceId!r} is {'deleted' if deleted else status}")
        if tenant_status != "active":
            raise SyncError(f"tenant {job.tenantId!r} is {tenant_status}")

    async def _process(self, db: Db, job: SyncJobData, page: list[tuple[Any, ...]]) -> list[str]:
        ids: list[str] = []
        hashes: list[str] = []
        raw: list[Jsonb] = []
        normalized: list[Jsonb] = []
        deleted: list[str] = []
        for external_id, payload, is_deleted in page:
            if is_deleted:
                deleted.append(external_id)
                continue
            try:
                data = normalize(job.entityType, payload)
            except PayloadError as exc:
                await self.bus.dead_letter("sync", json.dumps(payload).encode(),
                                           f"{job.entityType} {external_id}: {exc}")
                continue
            ids.append(external_id)
            hashes.append(payload_hash(payload))
            raw.append(Jsonb(payload))
            normalized.append(Jsonb(data))
        changed: list[str] = []
        if ids:
            rows = await db.fetch("sync/upsert_entities", {
                "tenant_id": job.tenantId, "data_source_id": job.dataSourceId, "entity_type": job.entityType,
                "sync_id": job.syncId, "external_ids": ids, "hashes": hashes, "raw": raw,
                "normalized": normalized})
            changed = [r[0] for r in rows]
        if deleted:
            rows = await db.fetch("sync/mark_deleted", {"data_source_id": job.dataSourceId,
                                                        "entity_type": job.entityType, "sync_id": job.syncId,
                                                        "external_ids": deleted})
            changed += [r[0] for r in rows]
        return changed

    async def _link(self, db: Db, job: SyncJobData, page: list[tuple[Any, ...]]) -> None:
        live = [(ext, payload) for ext, payload, is_deleted in page if not is_deleted]
        outbound: list[Edge] = [edge for ext, payload in live
                                for edge in relationships_of(job.entityType, ext, payload)
                                if edge[0] == job.entityType and edge[1] == ext]
        declared_by_children: list[Edge] = [edge for ext, payload in live
                                            for edge in relationships_of(job.entityType, ext, payload)
                                            if edge[0] != job.entityType]
        inbound_rows = await db.fetch("sync/inbound_references", {
            "data_source_id": job.dataSourceId, "entity_type": job.entityType,
            "external_ids": [ext for ext, _ in live]})
        inbound: list[Edge] = [tuple(row) for row in inbound_rows]  # type: ignore[misc]
        await link(db, tenant_id=job.tenantId, data_source_id=job.dataSourceId, sync_id=job.syncId,
                   outbound=outbound, inbound=inbound + declared_by_children,
                   page_parents=[(job.entityType, ext) for ext, _ in live])
