"""The sync job: what the load generator, the scheduler and the BullMQ queue carry.

On the new path it is a BullMQ job named `sync` in queue `pipeline-jobs` whose data is
`SyncJobData.to_dict()`; on the legacy path a `scheduled_jobs` row whose action is
`microsoft-365.sync.{entityType}` and whose payload is the same dict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from msp_pipeline.model import ENTITY_TYPES

ATTEMPTS = 3
BACKOFF_DELAY_MS = 5_000
REMOVE_ON_COMPLETE = {"age": 86_400, "count": 1_000}
REMOVE_ON_FAIL = {"age": 604_800, "count": 5_000}
NEXT_PAGE_PRIORITY_STEP = 10  # pagination: the next batch gets priority +10
LEGACY_RETRY_DELAY_S = 300.0


class JobError(ValueError):
    """Job data that is not a valid sync job; the message names the field."""


@dataclass(frozen=True)
class SyncJobData:
    tenantId: str
    dataSourceId: str
    entityType: str
    syncId: str
    batchNumber: int = 0
    cursor: str | None = None
    intendedAt: str | None = None  # ISO 8601 UTC on the harness clock: when the load meant it
    priority: int = 5

    @property
    def job_key(self) -> str:
        """Unique per logical job; used as BullMQ jobId and job_runs.job_key."""
        return f"{self.syncId}:{self.entityType}:{self.batchNumber}"

    @property
    def intended_at(self) -> datetime | None:
        return datetime.fromisoformat(self.intendedAt.replace("Z", "+00:00")) if self.intendedAt else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def next_page(self, cursor: str) -> SyncJobData:
        return SyncJobData(self.tenantId, self.dataSourceId, self.entityType, self.syncId,
                           self.batchNumber + 1, cursor, None, self.priority + NEXT_PAGE_PRIORITY_STEP)

    @classmethod
    def from_dict(cls, raw: Any) -> SyncJobData:
        if not isinstance(raw, dict):
            raise JobError(f"job data is {type(raw).__name__}, expected an object")
        for key in ("tenantId", "dataSourceId", "entityType", "syncId"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise JobError(f"job field {key!r} must be a non-empty string, got {raw.get(key)!r}")
        if raw["entityType"] not in ENTITY_TYPES:
            raise JobError(f"entityType {raw['entityType']!r} is not one of {list(ENTITY_TYPES)}")
        batch = raw.get("batchNumber", 0)
        priority = raw.get("priority", 5)
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 0:
            raise JobError(f"batchNumber {batch!r} must be a whole number >= 0")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise JobError(f"priority {priority!r} must be a whole number")
        intended = raw.get("intendedAt")
        if intended is not None:
            try:
                datetime.fromisoformat(str(intended).replace("Z", "+00:00"))
            except ValueError:
                raise JobError(f"intendedAt {intended!r} is not an ISO 8601 time") from None
        cursor = raw.get("cursor")
        return cls(raw["tenantId"], raw["dataSourceId"], raw["entityType"], raw["syncId"], batch,
                   None if cursor is None else str(cursor), intended, priority)


def bullmq_job_options(data: SyncJobData, *, delay_ms: int = 0) -> dict[str, Any]:
    """BullMQ options of docs/pipeline.md. BullMQ runs a LOWER priority number first; the legacy
    scheduler ran the HIGHER one first, so the priority is mirrored here (1..2 097 152)."""
    options: dict[str, Any] = {
        "jobId": data.job_key,
        "attempts": ATTEMPTS,
        "backoff": {"type": "exponential", "delay": BACKOFF_DELAY_MS},
        "removeOnComplete": REMOVE_ON_COMPLETE,
        "removeOnFail": REMOVE_ON_FAIL,
        "priority": bullmq_priority(data.priority),
    }
    if delay_ms > 0:
        options["delay"] = delay_ms
    return options


def bullmq_priority(legacy_priority: int) -> int:
    """Legacy: higher first; BullMQ: lower first (and 0 = no priority). Mirror around 1000."""
    return max(1, min(2_097_152, 1_000 - legacy_priority))
