"""Samples queue depth per path once a second while the load runs (a background thread
that owns its own connections and stops when asked). A server that does not answer is
counted per sample; a sampler that dies says so, so its silence is never read as health."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import psycopg
import redis

from rollout_bench.load.background import BackgroundSampler
from rollout_bench.pipeline.wire import legacy_depth, unified_depth


@dataclass
class DepthSample:
    elapsed_s: float
    unified_waiting: int
    legacy_waiting: int


@dataclass
class QueueDepthSampler(BackgroundSampler):
    database_url: str
    redis_url: str
    bullmq_prefix: str
    interval_s: float = 1.0
    samples: list[DepthSample] = field(default_factory=list)
    redis_failures: int = 0
    redis_samples: int = 0
    database_failures: int = 0
    error: str = ""
    thread_name: ClassVar[str] = "queue-depth-sampler"

    def _run(self) -> None:
        try:
            self._sample_until_stopped()
        except BaseException as exc:  # the sampler's own death is evidence lost: say so, never read as 0
            self.error = f"{type(exc).__name__}: {exc}"
            raise

    def _sample_until_stopped(self) -> None:
        started = time.monotonic()
        client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        conn: psycopg.Connection[Any] | None = None
        try:
            while not self._stop.is_set():
                self.redis_samples += 1
                try:
                    unified = unified_depth(client, self.bullmq_prefix)
                except redis.RedisError:
                    self.redis_failures += 1
                    unified = -1
                try:
                    conn = conn or psycopg.connect(self.database_url, autocommit=True)
                    legacy = legacy_depth(conn)
                except psycopg.OperationalError:
                    self.database_failures += 1
                    legacy, conn = -1, None
                self.samples.append(DepthSample(round(time.monotonic() - started, 2), unified, legacy))
                self._stop.wait(self.interval_s)
        finally:
            client.close()
            if conn is not None:
                conn.close()

    def evidence(self) -> dict[str, Any]:
        """For the summary: Redis failures counted over `redis_samples` tries, or null when the
        sampler died (then nothing was watched)."""
        return {"redis_failures": None if self.error else self.redis_failures,
                "redis_samples": 0 if self.error else self.redis_samples,
                "database_failures": self.database_failures, "sampler_error": self.error}

    def series(self) -> dict[str, Any]:
        return {
            "elapsed_s": [s.elapsed_s for s in self.samples],
            "unified": [s.unified_waiting for s in self.samples],
            "legacy": [s.legacy_waiting for s in self.samples],
        }
