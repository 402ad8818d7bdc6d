"""Where each job that neither completed nor failed visibly still is: queued on its path
(waiting, retrying, delayed or running) is backlog, a path that could not keep up; on no
path at all is lost, the only data loss. A new-path job is queued while its BullMQ job
hash exists and is not finished; a legacy one while its scheduled_jobs row is pending,
running or failed-awaiting-retry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
import redis

from msp_pipeline.contract.subjects import QUEUE_NAME
from rollout_bench.sql import load


def queued_legacy(conn: psycopg.Connection[Any]) -> set[str]:
    return {f"{sync}:{etype}:{batch}" for sync, etype, batch, _status in conn.execute(load("collect/queued_legacy_jobs"))}


def queued_unified(client: redis.Redis, prefix: str, job_keys: Iterable[str]) -> set[str]:
    """Job ids (= job keys) whose BullMQ job still exists unfinished."""
    keys = list(job_keys)
    if not keys:
        return set()
    pipe = client.pipeline()
    for key in keys:
        pipe.hmget(f"{prefix}:{QUEUE_NAME}:{key}", "finishedOn", "timestamp")
    queued = set()
    for key, (finished, added) in zip(keys, pipe.execute()):
        if added is not None and finished is None:
            queued.add(key)
    return queued


def queued_jobs(conn: psycopg.Connection[Any], redis_url: str, prefix: str, candidates: Iterable[str]) -> set[str]:
    """Of `candidates` (jobs neither completed nor failed), those still queued on a path."""
    candidates = set(candidates)
    if not candidates:
        return set()
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        unified = queued_unified(client, prefix, sorted(candidates))
    finally:
        client.close()
    return (unified | queued_legacy(conn)) & candidates
