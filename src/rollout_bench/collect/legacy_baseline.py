"""The legacy path against its own baseline ("30-60 s": a 60 s poll, about 30 s average
wait): a job waits on average half the poll interval, and at worst one poll plus the time
the jobs ahead of it take. Reported, not gated: legacy is the baseline being replaced."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import psycopg

from rollout_bench.collect.bounds import nearest_rank
from rollout_bench.pipeline.wire import WARMUP_PATTERN
from rollout_bench.sql import load

TOLERANCE = 0.10


def legacy_durations_s(conn: psycopg.Connection[Any]) -> list[float]:
    return [float(s) for (s,) in conn.execute(load("collect/legacy_job_durations"), {"warmup": WARMUP_PATTERN})]


def legacy_baseline(latencies_ms: Sequence[float], durations_s: Sequence[float], poll_interval_s: float) -> dict[str, Any]:
    """Mean latency against half the poll (within 10 %), p99 against poll + p99 processing."""
    if not latencies_ms:
        return {"jobs": 0, "poll_interval_s": poll_interval_s}
    mean_s = statistics.fmean(latencies_ms) / 1000
    p99_s = (nearest_rank(latencies_ms, 0.99) or 0.0) / 1000
    processing_p99_s = nearest_rank(durations_s, 0.99) or 0.0
    expected_mean_s = poll_interval_s / 2
    return {"jobs": len(latencies_ms), "poll_interval_s": poll_interval_s,
            "mean_s": round(mean_s, 3), "expected_mean_s": expected_mean_s,
            "mean_within_10pct": abs(mean_s - expected_mean_s) <= TOLERANCE * expected_mean_s,
            "p99_s": round(p99_s, 3), "p99_limit_s": round(poll_interval_s + processing_p99_s, 3),
            "p99_within_limit": p99_s <= poll_interval_s + processing_p99_s,
            "processing_p99_s": round(processing_p99_s, 3)}
