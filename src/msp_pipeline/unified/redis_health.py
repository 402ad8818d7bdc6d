"""Keeps pipeline_redis_up (1/0) and pipeline_queue_depth{path} current from the queue's
own connection, every few seconds, logging each change of Redis reachability once."""

from __future__ import annotations

import asyncio
from typing import Protocol

from redis.exceptions import RedisError

from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics


class CountingQueue(Protocol):
    async def counts(self) -> dict[str, int]: ...


class RedisMonitor:
    def __init__(self, queue: CountingQueue, metrics: Metrics, path: str, interval_s: float = 2.0) -> None:
        self.queue = queue
        self.metrics = metrics
        self.path = path
        self.interval_s = interval_s
        self.up: bool | None = None

    async def check(self) -> bool:
        """One probe; a probe slower than the interval counts as Redis down (the client's
        own retries could otherwise keep the gauge at 1 through an outage)."""
        try:
            counts = await asyncio.wait_for(self.queue.counts(), timeout=max(self.interval_s, 1.0))
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            self._set_up(False, f"{type(exc).__name__}: {exc}")
            return False
        self.metrics.queue_depth.labels(self.path).set(counts["waiting"])
        self._set_up(True, "reachable")
        return True

    def _set_up(self, up: bool, why: str) -> None:
        self.metrics.redis_up.set(1 if up else 0)
        if up != self.up:
            log("RedisMonitor", "redis-up" if up else "redis-down", why, level="info" if up else "error")
            if not up:
                self.metrics.errors.labels("RedisMonitor", "redis_down").inc()
        self.up = up

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.check()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
            except asyncio.TimeoutError:
                continue
