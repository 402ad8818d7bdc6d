"""Samples queue depth per path once a second while the load runs (a background thread
that owns its own connections and stops when asked)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
import redis

from rollout_bench.pipeline.wire import legacy_depth, unified_depth


@dataclass
class DepthSample:
    elapsed_s: float
    unified_waiting: int
    legacy_waiting: int


@dataclass
class QueueDepthSampler:
    database_url: str
    redis_url: str
    bullmq_prefix: str
    interval_s: float = 1.0
    samples: list[DepthSample] = field(default_factory=list)
    redis_failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> QueueDepthSampler:
        self._thread = threading.Thread(target=self._run, name="queue-depth-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        started = time.monotonic()
        client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self._stop.is_set():
                try:
                    unified = unified_depth(client, self.bullmq_prefix)
                except redis.RedisError:
                    self.redis_failures += 1
                    unified = -1
                self.samples.append(DepthSample(round(time.monotonic() - started, 2), unified, legacy_depth(conn)))
                self._stop.wait(self.interval_s)
        client.close()

    def series(self) -> dict[str, Any]:
        return {
            "elapsed_s": [s.elapsed_s for s in self.samples],
            "unified": [s.unified_waiting for s in self.samples],
            "legacy": [s.legacy_waiting for s in self.samples],
        }
