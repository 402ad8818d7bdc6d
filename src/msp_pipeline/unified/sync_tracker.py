"""Which syncs are ready for the unified analysis, kept in Redis so that a restarted or a
second `unified-analyzer` process sees the same state.

Per (tenant, syncId): a hash with the data source, the latest linked event's createdAt (µs)
and the entity types whose final batch arrived. A sync waits in the `pending` sorted set
(score = when its last event arrived); whoever moves it from `pending` to `claimed` (atomic)
analyses it; `finish` marks it done (late events of a done or claimed sync are refused, so
one sync gives one analysis), `release` puts a failed one back for a retry. A claim older
than `claim_timeout_s` (a process that died mid-analysis) is put back as due.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from redis.asyncio import Redis

from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.model import ENTITY_TYPES

DONE_TTL_S = 86_400
MAX_FAILURES = 5

_RECORD = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('ZSCORE', KEYS[4], ARGV[1]) then return -1 end
if tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') >= tonumber(ARGV[11]) then return -1 end
redis.call('HSET', KEYS[1], 'tenantId', ARGV[9], 'syncId', ARGV[10], 'dataSourceId', ARGV[2])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'final:' .. ARGV[3], '1') end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastEventAt') or '0')
if tonumber(ARGV[5]) > last then redis.call('HSET', KEYS[1], 'lastEventAt', ARGV[5]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
local final = 0
for type in string.gmatch(ARGV[8], '[^,]+') do
  if redis.call('HEXISTS', KEYS[1], 'final:' .. type) == 1 then final = final + 1 end
end
return final
"""
_CLAIM = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  return 1
end
return 0
"""
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
local failures = redis.call('HINCRBY', KEYS[3], 'failures', 1)
if failures < tonumber(ARGV[3]) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
return failures
"""


@dataclass(frozen=True)
class PendingSync:
    tenant_id: str
    sync_id: str
    data_source_id: str
    last_event_at: datetime | None
    final_types: frozenset[str]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def _from_micros(micros: int) -> datetime:
    return _EPOCH + micros * _MICROSECOND


def sync_member(tenant_id: str, sync_id: str) -> str:
    return json.dumps([tenant_id, sync_id], separators=(",", ":"))


class SyncTracker:
    def __init__(self, redis: Redis, prefix: str, *, claim_timeout_s: float = 300.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.claim_timeout_s = claim_timeout_s
        self.pending_key = f"{prefix}:pending"
        self.claimed_key = f"{prefix}:claimed"
        self._record = redis.register_script(_RECORD)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)

    def _key(self, kind: str, member: str) -> str:
        return f"{self.prefix}:{kind}:{hashlib.sha1(member.encode()).hexdigest()}"

    async def record(self, event: LinkedEvent, *, now: float | None = None) -> int:
        """Notes one linked event; returns how many entity types are final, or -1 when the
        sync is already claimed, done or given up (a late or redelivered event)."""
        member = sync_member(event.tenantId, event.syncId)
        created = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=timezone.utc)
        moment = time.time() if now is None else now
        result = await self._record(
            keys=[self._key("sync", member), self.pending_key, self._key("done", member), self.claimed_key],
            args=[member, event.dataSourceId, event.entityType, "1" if event.syncMetadata.isFinalBatch else "0",
                  (created - _EPOCH) // _MICROSECOND, int(moment * 1000), DONE_TTL_S,
                  ",".join(ENTITY_TYPES), event.tenantId, event.syncId, MAX_FAILURES])
        return int(result)

    async def claim(self, member: str) -> bool:
        return bool(await self._claim(keys=[self.pending_key, self.claimed_key],
                                      args=[member, int(time.time() * 1000)]))

    async def due(self, settle_s: float, *, limit: int = 100) -> list[str]:
        """Pending syncs whose last event is at least `settle_s` old; stale claims are put
        back first (they are due at once)."""
        now_ms = int(time.time() * 1000)
        stale = await self.redis.zrangebyscore(self.claimed_key, "-inf", now_ms - int(self.claim_timeout_s * 1000))
        for member in stale:
            if await self.redis.zrem(self.claimed_key, member):
                await self.redis.zadd(self.pending_key, {member: 0})
        members = await self.redis.zrangebyscore(self.pending_key, "-inf", now_ms - int(settle_s * 1000),
                                                 start=0, num=limit)
        return [m.decode() if isinstance(m, bytes) else str(m) for m in members]

    async def info(self, member: str) -> PendingSync:
        raw: dict[Any, Any] = await self.redis.hgetall(self._key("sync", member))
        fields = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                  for k, v in raw.items()}
        tenant_id, sync_id = json.loads(member)
        last = fields.get("lastEventAt")
        return PendingSync(
            tenant_id, sync_id, fields.get("dataSourceId", ""),
            _from_micros(int(last)) if last else None,
            frozenset(k.removeprefix("final:") for k in fields if k.startswith("final:")))

    async def finish(self, member: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.claimed_key, member)
            pipe.set(self._key("done", member), "1", ex=DONE_TTL_S)
            pipe.delete(self._key("sync", member))
            await pipe.execute()

    async def release(self, member: str) -> int:
        """After a failed analysis: back to pending (due now + settle window) unless it has
        failed MAX_FAILURES times; returns the number of failures so far."""
        return int(await self._release(keys=[self.pending_key, self.claimed_key, self._key("sync", member)],
                                       args=[member, int(time.time() * 1000), MAX_FAILURES]))
