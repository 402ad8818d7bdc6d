"""The BullMQ queue of the new path (phase 1): `pipeline-jobs` in Redis.

Jobs carry `SyncJobData.to_dict()` under the name `sync`, with the options of
`jobs.bullmq_job_options` (attempts 3, exponential backoff from 5 000 ms, remove-on-complete
and remove-on-fail (completed kept a day, failed a week), job id = job key so a job added twice is stored once).
Repeatable jobs are BullMQ job schedulers, one per active data source and entity type of a
tenant routed to BullMQ, cron from `rate_minutes` (60 -> hourly).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from psycopg_pool import AsyncConnectionPool

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.contract.subjects import SYNC_JOB_NAME
from msp_pipeline.log import log
from msp_pipeline.pool import db_session

SCHEDULER_PREFIX = "sync:"
SCHEDULED_SYNC_ID = "scheduled"  # template value; the worker gives each iteration its own sync id


class Routing(Protocol):
    def should_use_bullmq(self, tenant_id: str | None) -> bool: ...


def repeat_options(rate_minutes: Any) -> dict[str, Any]:
    """BullMQ repeat options for a sync every `rate_minutes`: a cron pattern when the rate
    divides an hour or a day (60 -> '0 * * * *'), else a fixed interval."""
    if not isinstance(rate_minutes, int) or isinstance(rate_minutes, bool) or rate_minutes <= 0:
        raise ValueError(f"rate_minutes {rate_minutes!r} is not allowed; use a whole number of minutes > 0")
    if rate_minutes < 60 and 60 % rate_minutes == 0:
        return {"pattern": "* * * * *" if rate_minutes == 1 else f"*/{rate_minutes} * * * *"}
    if rate_minutes % 60 == 0 and 1440 % rate_minutes == 0:
        hours = rate_minutes // 60
        return {"pattern": "0 * * * *" if hours == 1 else "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"}
    return {"every": rate_minutes * 60_000}


def scheduler_id(data_source_id: str, entity_type: str) -> str:
    return f"{SCHEDULER_PREFIX}{data_source_id}:{entity_type}"


class PipelineQueue(SyncJobProducer):
    """The producer plus the repeatable job schedulers the pipeline keeps for its tenants."""

    async def ensure_repeatable_jobs(self, pool: AsyncConnectionPool, routing: Routing) -> dict[str, int]:
        """One job scheduler per active data source and entity type of every tenant that
        `routing` sends to BullMQ; schedulers of sources no longer routed or active are
        removed (a rollback leaves none behind). Returns {'upserted': n, 'removed': m}."""
        async with db_session(pool) as db:
            sources = await db.fetch("unified/repeatable_sources")
        wanted: dict[str, tuple[SyncJobData, dict[str, Any]]] = {}
        for tenant_id, data_source_id, entity_type, rate_minutes, priority in sources:
            if not routing.should_use_bullmq(tenant_id):
                continue
            template = SyncJobData(tenant_id, data_source_id, entity_type, SCHEDULED_SYNC_ID, priority=int(priority))
            wanted[scheduler_id(data_source_id, entity_type)] = (template, repeat_options(rate_minutes))
        removed = 0
        for key in await self._scheduler_ids():
            if key.startswith(SCHEDULER_PREFIX) and key not in wanted:
                await self.queue.removeJobScheduler(key)
                removed += 1
        for key, (template, repeat) in wanted.items():
            options = self.job_options(template)
            options.pop("jobId")  # each iteration gets the scheduler's own id
            await self.queue.upsertJobScheduler(key, repeat, SYNC_JOB_NAME, template.to_dict(), options)
        log("PipelineQueue", "repeatable-jobs", f"{len(wanted)} schedulers kept, {removed} removed",
            upserted=len(wanted), removed=removed)
        return {"upserted": len(wanted), "removed": removed}

    async def _scheduler_ids(self) -> Iterable[str]:
        return [str(s["key"]) for s in await self.queue.getJobSchedulers(0, -1, True)]
