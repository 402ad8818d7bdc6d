"""The Redis-held sync tracker of the unified analyzer (real Redis, db 15)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.model import ENTITY_TYPES
from msp_pipeline.unified.sync_tracker import MAX_FAILURES, SyncTracker, sync_member

pytestmark = pytest.mark.integration


def event(entity_type: str, *, final: bool = True, sync_id: str = "s1") -> LinkedEvent:
    return LinkedEvent.new(tenant_id="t1", data_source_id="ds1", entity_type=entity_type, sync_id=sync_id,
                           changed=[], is_final=final)


def test_sync_lifecycle(redis_url: str) -> None:
    async def scenario() -> None:
        redis = Redis.from_url(redis_url)
        tracker = SyncTracker(redis, "trk", claim_timeout_s=0.2)
        member = sync_member("t1", "s1")
        try:
            assert await tracker.record(event("identities", final=False)) == 0
            counts = [await tracker.record(event(t)) for t in ENTITY_TYPES]
            assert counts == [1, 2, 3, 4, 5]
            info = await tracker.info(member)
            assert (info.tenant_id, info.sync_id, info.data_source_id) == ("t1", "s1", "ds1")
            assert info.final_types == frozenset(ENTITY_TYPES) and info.last_event_at is not None
            assert await tracker.claim(member) and not await tracker.claim(member)  # one winner
            assert await tracker.record(event("roles")) == -1  # claimed: late events refused
            assert await tracker.due(0) == []
            await asyncio.sleep(0.25)
            assert await tracker.due(0) == [member]  # a claim of a dead process comes back
            assert await tracker.claim(member)
            await tracker.finish(member)
            assert await tracker.record(event("roles")) == -1 and await tracker.due(0) == []
        finally:
            await redis.aclose()

    asyncio.run(scenario())


def test_release_retries_then_gives_up(redis_url: str) -> None:
    async def scenario() -> None:
        redis = Redis.from_url(redis_url)
        tracker = SyncTracker(redis, "trk")
        member = sync_member("t1", "s2")
        try:
            await tracker.record(event("identities", sync_id="s2"))
            for failure in range(1, MAX_FAILURES + 1):
                assert await tracker.claim(member), failure
                assert await tracker.release(member) == failure
            assert await tracker.due(0) == [] and not await tracker.claim(member)
            assert await tracker.record(event("groups", sync_id="s2")) == -1
        finally:
            await redis.aclose()

    asyncio.run(scenario())
