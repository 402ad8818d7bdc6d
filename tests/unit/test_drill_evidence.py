"""The drills' evidence helpers against fakeredis: which jobs a worker process holds (its
pid in the lock token), what is queued, and counters read from a /metrics page."""

from __future__ import annotations

import fakeredis
import pytest

from msp_pipeline.contract.subjects import QUEUE_NAME
from rollout_bench.drills import evidence


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> fakeredis.FakeRedis:
    server = fakeredis.FakeServer()
    monkeypatch.setattr(evidence.redis.Redis, "from_url",
                        classmethod(lambda cls, url, **kw: fakeredis.FakeRedis(server=server, **kw)))
    return fakeredis.FakeRedis(server=server, decode_responses=True)


def test_jobs_held_by_reads_the_pid_in_lock_tokens(fake: fakeredis.FakeRedis) -> None:
    key = f"p:{QUEUE_NAME}"
    fake.rpush(f"{key}:active", "a", "b", "c")
    fake.set(f"{key}:a:lock", "pid41-abc:1")
    fake.set(f"{key}:b:lock", "pid42-def:7")
    fake.set(f"{key}:c:lock", "pid411-xyz:2")
    assert evidence.jobs_held_by("redis://x", "p", 41) == ["a"]
    assert evidence.jobs_held_by("redis://x", "p", 42) == ["b"]
    assert evidence.jobs_held_by("redis://x", "p", 7) == []


def test_queued_jobs_counts_wait_prioritized_and_active(fake: fakeredis.FakeRedis) -> None:
    key = f"p:{QUEUE_NAME}"
    fake.rpush(f"{key}:wait", "w1")
    fake.zadd(f"{key}:prioritized", {"p1": 1, "p2": 2})
    fake.rpush(f"{key}:active", "a1")
    assert evidence.queued_jobs("redis://x", "p") == {"waiting": ["w1", "p1", "p2"], "active": ["a1"]}
