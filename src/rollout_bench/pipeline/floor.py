"""The floor: job latency of BullMQ itself on this machine and this Redis, with a worker
that does nothing, measured right before the pipeline's load. Reported beside every run so
a reader sees which part of the new path's job latency is the pipeline's and which is the
queue's (and the machine's).

Latency is taken as the pipeline's is: from the job's intended arrival (the producer's
clock, just before `add`) to the start of its processing, on one clock (this process)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from bullmq import Queue, Worker

FLOOR_QUEUE = "floor-calibration"
DEFAULT_JOBS = 200
DEFAULT_RATE_PER_S = 25.0
DEADLINE_S = 60.0


def no_op_worker(queue_name: str, redis_url: str, prefix: str, on_start: Callable[[str, float], None],
                 concurrency: int = 10) -> Worker:
    """A BullMQ worker whose processor only notes (job id, start time): the queue alone.
    Not started: run `worker.run()` as a task, `await worker.close()` to stop."""

    async def no_op(job: Any, token: str) -> None:
        on_start(str(job.id), time.time())

    return Worker(queue_name, no_op, {"connection": redis_url, "prefix": prefix, "concurrency": concurrency,
                                      "autorun": False})


async def _measure(redis_url: str, prefix: str, jobs: int, rate_per_s: float) -> list[float]:
    started: dict[str, float] = {}
    intended: dict[str, float] = {}
    queue = Queue(FLOOR_QUEUE, {"connection": redis_url, "prefix": prefix})
    worker = no_op_worker(FLOOR_QUEUE, redis_url, prefix, started.__setitem__)
    runner = asyncio.create_task(worker.run())
    try:
        await queue.client.ping()
        begin = time.time() + 0.5
        for index in range(jobs):
            due = begin + index / rate_per_s
            await asyncio.sleep(max(0.0, due - time.time()))
            job_id = f"floor-{index:05d}"
            intended[job_id] = due
            await queue.add("noop", {}, {"jobId": job_id, "removeOnComplete": True})
        deadline = time.monotonic() + DEADLINE_S
        while len(started) < jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await worker.close()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await queue.obliterate({"force": True})
        await queue.close()
    return [(started[j] - intended[j]) * 1000 for j in intended if j in started]


def measure_floor(redis_url: str, jobs: int = DEFAULT_JOBS, rate_per_s: float = DEFAULT_RATE_PER_S) -> dict[str, Any]:
    """{jobs, rate_per_s, missing, job_latency_ms: the raw values} (the summary keeps figures)."""
    prefix = f"floor-{uuid.uuid4().hex[:6]}"
    values = asyncio.run(_measure(redis_url, prefix, jobs, rate_per_s))
    return {"jobs": jobs, "rate_per_s": rate_per_s, "missing": jobs - len(values), "job_latency_ms": values}
