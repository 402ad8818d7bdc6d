"""What a capacity step runs against, started fresh for each step on the step's own BullMQ
prefix and NATS namespace: the pipeline with a path's flags (`PipelineStage`), or no
pipeline at all but no-op BullMQ workers (`FloorStage`, the harness's own capacity).

Fresh per step because the generator names its syncs `<prefix>-<index>` from 0 in every
run: with one prefix, the second step's sync ids would repeat the first's, and BullMQ (which
keeps completed job ids) and the analyzer's done-markers would refuse them. A new prefix
is a new, empty queue; the step's leftovers are cleared when it ends (`clear`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg
import redis
from bullmq import Queue

from msp_pipeline.contract.producer import bullmq_depth
from msp_pipeline.contract.subjects import QUEUE_NAME
from rollout_bench.capacity.floor_worker import FloorWorkers
from rollout_bench.collect import records as collect
from rollout_bench.collect.backlog import queued_jobs
from rollout_bench.pipeline.supervisor import Supervisor
from rollout_bench.sql import load


class Stage(Protocol):
    label: str

    def start(self, prefix: str, folder: Path) -> None: ...
    def processes(self) -> dict[str, int]: ...
    def started(self, job_keys: Sequence[str]) -> dict[str, float]: ...
    def errors(self, jobs: Sequence[Mapping[str, Any]]) -> int: ...
    def stop(self, grace_s: float) -> dict[str, int | None]: ...
    def dead(self) -> dict[str, int | None]: ...
    def clear(self) -> dict[str, int]: ...


def obliterate_queue(redis_url: str, prefix: str) -> None:
    """Removes the step's BullMQ queue with whatever it still holds."""
    async def remove() -> None:
        queue = Queue(QUEUE_NAME, {"connection": redis_url, "prefix": prefix})
        try:
            await queue.obliterate({"force": True})
        finally:
            await queue.close()

    asyncio.run(remove())


def unified_backlog(redis_url: str, prefix: str) -> int:
    """Jobs of the step's queue not finished: waiting, prioritized, delayed or active."""

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        return bullmq_depth(client, prefix) + int(client.llen(f"{prefix}:{QUEUE_NAME}:active"))
    finally:
        client.close()


class PipelineStage:
    """The pipeline's roles with a path's flags; the worker role started `workers` times."""

    def __init__(self, label: str, roles: Sequence[str], workers: int, env: Mapping[str, str], database_url: str,
                 redis_url: str) -> None:
        self.label, self.roles, self.workers = label, tuple(roles), workers
        self.env, self.database_url, self.redis_url = dict(env), database_url, redis_url
        self.prefix = ""
        self.supervisor: Supervisor | None = None

    def start(self, prefix: str, folder: Path) -> None:
        self.prefix = prefix
        env = {**self.env, "BULLMQ_PREFIX": prefix, "NATS_NAMESPACE": prefix}
        self.supervisor = supervisor = Supervisor(env, folder / "logs")
        started = [supervisor.start(role, wait=False) for role in self.roles
                   for _ in range(self.workers if role == "worker" else 1)]
        for process in started:
            supervisor.wait_ready(process)

    def processes(self) -> dict[str, int]:
        return {p.name: p.popen.pid for p in self.supervisor.processes} if self.supervisor else {}

    def started(self, job_keys: Sequence[str]) -> dict[str, float]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return {str(key): float(at) for key, at in conn.execute(load("capacity/first_starts"),
                                                                    {"keys": list(job_keys)})}

    def errors(self, jobs: Sequence[Mapping[str, Any]]) -> int:
        """Jobs failed (every attempt) or lost (on no path); still queued is backlog, not error."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            totals = collect.job_totals(conn, jobs, lambda keys: queued_jobs(conn, self.redis_url, self.prefix, keys))
        return totals.failed + totals.lost

    def backlog(self) -> int:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            legacy = int(conn.execute(load("capacity/legacy_unfinished"),
                                      {"sync_pattern": f"{self.prefix}-%"}).fetchone()[0])  # type: ignore[index]
        return unified_backlog(self.redis_url, self.prefix) + legacy

    def stop(self, grace_s: float) -> dict[str, int | None]:
        return self.supervisor.stop_all(grace_s) if self.supervisor else {}

    def dead(self) -> dict[str, int | None]:
        return self.supervisor.dead() if self.supervisor else {}

    def clear(self) -> dict[str, int]:
        """After stop: the queue removed, legacy leftovers marked broken (never claimed later)."""
        left = self.backlog()
        obliterate_queue(self.redis_url, self.prefix)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            broken = conn.execute(load("capacity/clear_legacy_backlog"),
                                  {"reason": "capacity step ended: cleared", "sync_pattern": f"{self.prefix}-%"}).rowcount
        return {"left": left, "legacy_rows_cleared": int(broken)}


class FloorStage:
    """No pipeline: `workers` no-op BullMQ workers on the step's queue."""

    label = "floor"

    def __init__(self, workers: int, redis_url: str) -> None:
        self.workers, self.redis_url = workers, redis_url
        self.floor: FloorWorkers | None = None
        self.prefix = ""

    def start(self, prefix: str, folder: Path) -> None:
        self.prefix = prefix
        self.floor = FloorWorkers(self.redis_url, prefix, folder / "logs", self.workers)
        self.floor.start()

    def processes(self) -> dict[str, int]:
        return self.floor.pids() if self.floor else {}

    def started(self, job_keys: Sequence[str]) -> dict[str, float]:
        starts = self.floor.started() if self.floor else {}
        return {key: starts[key] for key in job_keys if key in starts}

    def errors(self, jobs: Sequence[Mapping[str, Any]]) -> int:
        return 0  # a no-op cannot fail; a job not started is backlog

    def backlog(self) -> int:
        return unified_backlog(self.redis_url, self.prefix)

    def stop(self, grace_s: float) -> dict[str, int | None]:
        return self.floor.stop(grace_s) if self.floor else {}

    def dead(self) -> dict[str, int | None]:
        if not self.floor:
            return {}
        return {name: p.returncode for name, p in self.floor.popens.items() if p.poll() is not None}

    def clear(self) -> dict[str, int]:
        left = self.backlog()
        obliterate_queue(self.redis_url, self.prefix)
        return {"left": left, "legacy_rows_cleared": 0}
