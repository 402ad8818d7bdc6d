"""The pipeline's own record of each job attempt (table job_runs), on either path."""

from __future__ import annotations

from datetime import datetime

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.db import Db


async def record_start(db: Db, job: SyncJobData, *, path: str, attempt: int, enqueued_at: datetime) -> int:
    rows = await db.fetch("jobs/job_run_start", {
        "job_key": job.job_key, "path": path, "tenant_id": job.tenantId,
        "data_source_id": job.dataSourceId, "entity_type": job.entityType, "sync_id": job.syncId,
        "attempt": attempt, "intended_at": job.intended_at, "enqueued_at": enqueued_at,
    })
    return int(rows[0][0])


async def record_finish(db: Db, run_id: int, *, error: str | None = None) -> None:
    await db.execute("jobs/job_run_finish", {
        "id": run_id, "status": "failed" if error else "completed", "error": error,
    })
