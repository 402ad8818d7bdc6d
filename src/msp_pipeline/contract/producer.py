"""The producer side of the pipeline's queues, as a client sees it.

- New path: sync jobs on the BullMQ queue (`SyncJobProducer`), and its depth read straight
  from Redis (`bullmq_depth`).
- Event flow: `linked.*` events published to the JetStream stream (`LinkedPublisher`).
The pipeline's own queue (`unified.queue.PipelineQueue`) extends the producer with the
repeatable job schedulers; a load generator needs only this.
"""

from __future__ import annotations

from typing import Any

import nats
import redis
from bullmq import Queue
from nats.aio.client import Client as NatsClient

from msp_pipeline.contract.jobs import SyncJobData, bullmq_job_options
from msp_pipeline.contract.subjects import QUEUE_NAME, SYNC_JOB_NAME, in_namespace, stream_name

COUNT_STATES = ("waiting", "prioritized", "active", "delayed", "completed", "failed")


class SyncJobProducer:
    """Adds sync jobs to `pipeline-jobs` on its own Redis connection (a Worker opens its own)."""

    def __init__(self, redis_url: str, prefix: str = "bull", *, backoff_delay_ms: int | None = None) -> None:
        if backoff_delay_ms is not None and backoff_delay_ms < 0:
            raise ValueError(f"backoff_delay_ms {backoff_delay_ms!r} is not allowed; use 0 or more")
        self.redis_url = redis_url
        self.prefix = prefix
        self.queue = Queue(QUEUE_NAME, {"connection": redis_url, "prefix": prefix})
        self._backoff_delay_ms = backoff_delay_ms  # tests only: the real delay is jobs.BACKOFF_DELAY_MS

    def job_options(self, job: SyncJobData, *, delay_ms: int = 0) -> dict[str, Any]:
        options = bullmq_job_options(job, delay_ms=delay_ms)
        if self._backoff_delay_ms is not None:
            options["backoff"] = {**options["backoff"], "delay": self._backoff_delay_ms}
        return options

    async def add_sync_job(self, job: SyncJobData, *, delay_ms: int = 0) -> str:
        """Adds one sync job; returns its id (the job key)."""
        if delay_ms < 0:
            raise ValueError(f"delay_ms {delay_ms!r} is not allowed; use 0 or more")
        added = await self.queue.add(SYNC_JOB_NAME, job.to_dict(), self.job_options(job, delay_ms=delay_ms))
        return str(added.id)

    async def counts(self) -> dict[str, int]:
        """waiting (incl. prioritized: every sync job has a priority), active, delayed,
        completed, failed."""
        raw = await self.queue.getJobCounts(*COUNT_STATES)
        counts = {state: int(raw.get(state) or 0) for state in COUNT_STATES}
        counts["waiting"] += counts.pop("prioritized")
        return counts

    async def ping(self) -> bool:
        return bool(await self.queue.client.ping())

    async def close(self) -> None:
        await self.queue.close()


def bullmq_depth(client: redis.Redis, prefix: str) -> int:
    """Jobs of the new path not yet running: waiting + prioritized + delayed (one round trip)."""
    key = f"{prefix}:{QUEUE_NAME}"
    pipe = client.pipeline()
    pipe.llen(f"{key}:wait")
    pipe.zcard(f"{key}:prioritized")
    pipe.zcard(f"{key}:delayed")
    return int(sum(pipe.execute()))


class LinkedPublisher:
    """Publishes `linked.*` events onto the pipeline's stream (which the pipeline creates)."""

    def __init__(self, nc: NatsClient, namespace: str = "") -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.namespace = namespace

    @classmethod
    async def connect(cls, url: str, name: str, namespace: str = "") -> LinkedPublisher:
        return cls(await nats.connect(url, name=name, connect_timeout=5, max_reconnect_attempts=-1,
                                      reconnect_time_wait=0.5), namespace)

    async def publish(self, subject: str, payload: bytes) -> None:
        """`subject` as the pipeline names it (linked.identities); the namespace is added here."""
        await self.js.publish(in_namespace(subject, self.namespace), payload, stream=stream_name(self.namespace))

    async def close(self) -> None:
        if not self.nc.is_closed:
            await self.nc.close()
