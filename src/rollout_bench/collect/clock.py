"""The harness's clock against the database's.

Job latency is `started_at` (taken by the database, `clock_timestamp()`) minus the intended
arrival (taken by the harness). On one machine both read one clock; with STACK=external the
database may be another host, so the offset is measured at the start and the end of a run
(midpoint of a round trip) and a run whose clocks are more than 50 ms apart is refused."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg

from rollout_bench.errors import InfrastructureError
from rollout_bench.sql import load

MAX_OFFSET_MS = 50.0
ROUNDS = 5


@dataclass(frozen=True)
class ClockOffset:
    offset_ms: float  # database clock minus harness clock
    uncertainty_ms: float  # half the best round trip

    def to_dict(self) -> dict[str, float]:
        return {"offset_ms": round(self.offset_ms, 3), "uncertainty_ms": round(self.uncertainty_ms, 3)}


def measure_offset(conn: psycopg.Connection[Any], rounds: int = ROUNDS) -> ClockOffset:
    """The best of `rounds` round trips (the shortest bounds the offset tightest)."""
    best: ClockOffset | None = None
    for _ in range(rounds):
        before = time.time()
        row = conn.execute(load("collect/database_clock")).fetchone()
        after = time.time()
        assert row is not None
        database_s = float(row[0])
        candidate = ClockOffset((database_s - (before + after) / 2) * 1000, (after - before) * 500)
        if best is None or candidate.uncertainty_ms < best.uncertainty_ms:
            best = candidate
    assert best is not None
    return best


def check_offset(offset: ClockOffset, when: str, limit_ms: float = MAX_OFFSET_MS) -> None:
    """Refuses (exit 2) clocks further apart than `limit_ms`, beyond the measurement's own
    uncertainty."""
    if abs(offset.offset_ms) - offset.uncertainty_ms > limit_ms:
        raise InfrastructureError(
            f"the database clock is {offset.offset_ms:+.0f} ms from this machine's ({when}; allowed "
            f"{limit_ms:.0f} ms): job latency would be off by as much; sync the clocks (NTP) and run again")
