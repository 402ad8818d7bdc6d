"""Processor: validates each payload of a page (model.normalize and the relationships it
declares), upserts the valid ones by external id with their data hash in one statement
(unchanged rows keep their data; only last_seen_at and sync_id move), marks what Graph
reports deleted, and sends each bad payload to `deadletter.sync` while the rest go on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from msp_pipeline.bus import Bus
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.db import Db
from msp_pipeline.model import PayloadError, normalize, payload_hash, relationships_of
from msp_pipeline.sync.adapter import GraphRow

Edge = tuple[str, str, str, str, str]  # parent_type, parent_ext, child_type, child_ext, relationship_type
DEAD_LETTER_SOURCE = "sync"


def declared_edges(entity_type: str, external_id: str, payload: Any) -> list[Edge]:
    """model.relationships_of, with a malformed payload (members not a list of ids, a
    license without skuId, ...) raised as PayloadError instead of whatever broke."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"payload is a JSON {type(payload).__name__}, expected an object")
    try:
        edges = relationships_of(entity_type, external_id, payload)
    except (TypeError, KeyError, AttributeError) as exc:
        raise PayloadError(f"relationships cannot be read: {type(exc).__name__}: {exc}") from None
    for edge in edges:
        if not all(isinstance(part, str) and part for part in edge):
            raise PayloadError(f"relationship {edge!r} has an id that is not a non-empty string")
    return list(edges)


def validate(entity_type: str, external_id: str, payload: Any) -> tuple[dict[str, Any], list[Edge]]:
    """(normalized data, declared edges); raises PayloadError for a payload that cannot be stored."""
    edges = declared_edges(entity_type, external_id, payload)
    try:
        return normalize(entity_type, payload), edges
    except PayloadError:
        raise
    except (TypeError, AttributeError, ValueError, OverflowError) as exc:  # e.g. a sign-in time not ISO 8601
        raise PayloadError(f"cannot normalize: {type(exc).__name__}: {exc}") from None


@dataclass
class ProcessedPage:
    live: dict[str, Any] = field(default_factory=dict)  # external id -> payload, valid and not deleted
    edges: dict[str, list[Edge]] = field(default_factory=dict)  # external id -> the edges it declares
    changed: list[str] = field(default_factory=list)  # external ids inserted, changed or deleted
    deleted_ids: list[int] = field(default_factory=list)  # entity ids marked deleted now
    dead_letters: int = 0


async def process_page(db: Db, bus: Bus, job: SyncJobData, rows: list[GraphRow]) -> ProcessedPage:
    out = ProcessedPage()
    normalized: dict[str, dict[str, Any]] = {}
    deleted: list[str] = []
    for row in rows:
        if row.deleted:
            deleted.append(row.external_id)
            continue
        try:
            normalized[row.external_id], out.edges[row.external_id] = validate(
                job.entityType, row.external_id, row.payload)
        except PayloadError as exc:
            await _dead_letter(bus, job, row, exc)
            out.dead_letters += 1
            continue
        out.live[row.external_id] = row.payload
    if out.live:
        ids = list(out.live)
        changed = await db.fetch("sync/upsert_entities", {
            "tenant_id": job.tenantId, "data_source_id": job.dataSourceId, "entity_type": job.entityType,
            "sync_id": job.syncId, "external_ids": ids,
            "hashes": [payload_hash(out.live[ext]) for ext in ids],
            "raw": [Jsonb(out.live[ext]) for ext in ids],
            "normalized": [Jsonb(normalized[ext]) for ext in ids]})
        out.changed += [ext for (ext,) in changed]
    if deleted:
        marked = await db.fetch("sync/mark_deleted", {
            "data_source_id": job.dataSourceId, "entity_type": job.entityType, "sync_id": job.syncId,
            "external_ids": deleted})
        out.deleted_ids = [entity_id for entity_id, _ in marked]
        out.changed += [ext for _, ext in marked]
    return out


async def _dead_letter(bus: Bus, job: SyncJobData, row: GraphRow, exc: PayloadError) -> None:
    body = {"tenantId": job.tenantId, "dataSourceId": job.dataSourceId, "entityType": job.entityType,
            "externalId": row.external_id, "syncId": job.syncId, "batchNumber": job.batchNumber,
            "error": str(exc), "payload": row.payload}
    await bus.dead_letter(DEAD_LETTER_SOURCE, json.dumps(body, default=str).encode(),
                          f"invalid {job.entityType} payload: {exc} (external id {row.external_id})")
