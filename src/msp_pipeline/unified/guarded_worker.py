"""A BullMQ Worker that cannot be stopped by one job's stored fields.

bullmq's `Job.fromJSON` runs `json.loads` on the job hash's `data`, `opts`, `progress`,
`stacktrace` and `parent` fields after the job was moved to `active`. A raw job whose data
is not JSON (or is over the size limit, or nested too deeply) raised there, before any
processor ran: the job stayed in `active`, was never counted, and came back after each
stalled check. Here each such field is checked first; a job with a bad one is built from
neutral values instead and carries a deferred failure, which bullmq's own `processJob`
turns into a move to `failed` with the reason (one attempt, no retry), and `on_bad_job`
counts it as a dead letter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from bullmq import Job, Worker
from redis.asyncio.connection import parse_url

from msp_pipeline.contract.events import EventError, decode_json

# redis-py 8 reads with a 5 s socket timeout by default, while bullmq blocks in BZPOPMIN for
# up to 10 s (and for the time to the next delayed job). The read timed out, redis-py's retry
# (20 tries, backoff to 20 s) re-sent the same BZPOPMIN, and moveToActive, which promotes due
# delayed jobs, was not called for minutes: due retries sat in `delayed` with an idle worker.
WORKER_SOCKET_TIMEOUT_S = 30.0


def worker_connection(redis_url: str) -> dict[str, Any]:
    """bullmq connection options for `redis_url` with a read timeout above its longest block."""
    return {**parse_url(redis_url), "socket_timeout": WORKER_SOCKET_TIMEOUT_S,
            "socket_connect_timeout": 5.0, "socket_keepalive": True}


# field -> neutral JSON to build the job with when the stored value cannot be read
NEUTRAL_FIELDS = {"data": "null", "opts": json.dumps({"attempts": 1}), "progress": "0",
                  "stacktrace": "[]", "parent": ""}
BadJobHandler = Callable[[Job, str], None]


def bad_job_fields(job_data: dict[str, Any], max_bytes: int) -> tuple[dict[str, Any], str | None]:
    """(job hash safe for Job.fromJSON, reason or None). The reason names the first bad field."""
    reason: str | None = None
    cleaned = dict(job_data)
    for name, neutral in NEUTRAL_FIELDS.items():
        value = job_data.get(name)
        if value is None or value == "":
            continue
        try:
            parsed = decode_json(value, max_bytes, EventError)
            if name == "opts" and not isinstance(parsed, dict):
                raise EventError(f"payload is a JSON {type(parsed).__name__}, expected an object")
        except EventError as exc:
            reason = reason or f"invalid job {name}: {exc}"
            cleaned[name] = neutral
    return cleaned, reason


class GuardedWorker(Worker):  # type: ignore[misc]  # bullmq ships no type hints
    def __init__(self, name: str, processor: Any, opts: dict[str, Any], *, max_data_bytes: int,
                 on_bad_job: BadJobHandler) -> None:
        super().__init__(name, processor, opts)
        # The lock token of each job it holds (`<id>:<n>`, in `<job>:lock`) names this process,
        # so an operator (or a drill) can tell which process runs which job.
        self.id = f"pid{os.getpid()}-{self.id}"
        self.lockManager.worker_id = self.id
        self.max_data_bytes = max_data_bytes
        self.on_bad_job = on_bad_job

    async def nextJobFromJobData(self, job_data: dict[str, Any] | None = None, job_id: str | None = None,
                                 limit_until: int = 0, delay_until: int = 0,
                                 token: str | None = None) -> Job | None:
        reason = None
        if job_data:
            job_data, reason = bad_job_fields(job_data, self.max_data_bytes)
        job = await super().nextJobFromJobData(job_data, job_id, limit_until, delay_until, token)
        if job is not None and reason is not None:
            job.deferredFailure = reason
            job.repeatJobKey = None
            self.on_bad_job(job, reason)
        return job
