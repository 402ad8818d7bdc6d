"""Adapter: checks that a job may run, then reads one page of `graph_source` (the stand-in
for Microsoft Graph), keyset-paginated by external id (cursor = last external id read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.db import Db
from msp_pipeline.model import ENTITY_TYPES


class SyncError(Exception):
    """A job that cannot run: its tenant or data source is missing, deleted or not active,
    or its entity type is unknown. The path's worker turns it into a failed job."""


@dataclass(frozen=True)
class GraphRow:
    external_id: str
    payload: Any  # a JSON object when Graph behaves; anything when it does not
    deleted: bool


@dataclass(frozen=True)
class GraphPage:
    rows: list[GraphRow]
    is_final: bool

    @property
    def cursor(self) -> str | None:
        """The next page's cursor: the last external id of this page (None when empty)."""
        return self.rows[-1].external_id if self.rows else None


async def check_job(db: Db, job: SyncJobData) -> None:
    """Raises SyncError unless the job's tenant and data source exist, match and are active."""
    if job.entityType not in ENTITY_TYPES:
        raise SyncError(f"entity type {job.entityType!r} is not one of {list(ENTITY_TYPES)}")
    [(tenant_status, owner, status, deleted)] = await db.fetch(
        "sync/data_source", {"tenant_id": job.tenantId, "data_source_id": job.dataSourceId})
    if tenant_status is None:
        raise SyncError(f"tenant {job.tenantId!r} does not exist")
    if owner is None:
        raise SyncError(f"data source {job.dataSourceId!r} does not exist")
    if owner != job.tenantId:
        raise SyncError(f"data source {job.dataSourceId!r} belongs to tenant {owner!r}, not {job.tenantId!r}")
    if deleted:
        raise SyncError(f"data source {job.dataSourceId!r} is deleted")
    if status != "active":
        raise SyncError(f"data source {job.dataSourceId!r} is {status}, not active")
    if tenant_status != "active":
        raise SyncError(f"tenant {job.tenantId!r} is {tenant_status}, not active")


async def fetch_page(db: Db, job: SyncJobData, page_size: int) -> GraphPage:
    """One page after `job.cursor`; reads one row more than the page to know if it is the last."""
    rows = await db.fetch("sync/graph_page", {
        "data_source_id": job.dataSourceId, "entity_type": job.entityType,
        "cursor": job.cursor or "", "limit": page_size + 1})
    page = [GraphRow(str(ext), payload, bool(deleted)) for ext, payload, deleted in rows[:page_size]]
    return GraphPage(page, is_final=len(rows) <= page_size)


def stage_message(job: SyncJobData, trace: str, **fields: Any) -> Mapping[str, Any]:
    """The body of the fetched.* and processed.* stage events."""
    return {"tenantId": job.tenantId, "dataSourceId": job.dataSourceId, "entityType": job.entityType,
            "syncId": job.syncId, "batchNumber": job.batchNumber, "traceId": trace, **fields}
