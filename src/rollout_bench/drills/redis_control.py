"""The control of the redis-restart drill: the same SIGKILL of a Redis holding waiting
jobs, once with AOF and once without, on a Redis of its own (no pipeline), so the drill's
claim "they survive through AOF" is shown against a run where they do not."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import redis

from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.subjects import QUEUE_NAME
from rollout_bench.pipeline.wire import enqueue_unified_once
from rollout_bench.stack.binaries import EmbeddedBinaries
from rollout_bench.stack.embedded import start_redis
from rollout_bench.stack.health import CHECKS

CONTROL_JOBS = 50
CONTROL_PREFIX = "drill-control"


def _enqueue(url: str) -> None:
    enqueue_unified_once(url, CONTROL_PREFIX, [SyncJobData("t-control", "ds-control", "identities", f"control-{n:03d}")
                                               for n in range(CONTROL_JOBS)])


def _stored_jobs(url: str) -> int:
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        return int(client.zcard(f"{CONTROL_PREFIX}:{QUEUE_NAME}:prioritized")) + int(
            client.llen(f"{CONTROL_PREFIX}:{QUEUE_NAME}:wait"))
    finally:
        client.close()


def jobs_lost_at_sigkill(*, aof: bool) -> dict[str, int]:
    """CONTROL_JOBS jobs waiting, Redis SIGKILLed and started again on the same folder:
    {'waiting': n, 'after_restart': m, 'lost': n - m}."""
    root = Path(tempfile.mkdtemp(prefix="rollout-drill-control-"))
    server = None
    try:
        server, url = start_redis(EmbeddedBinaries.locate(), root, aof=aof, detached=False)
        _wait_answers(url)
        _enqueue(url)
        waiting = _stored_jobs(url)
        server.stop(kill=True)
        server.spawn()
        _wait_answers(url)
        after = _stored_jobs(url)
        return {"waiting": waiting, "after_restart": after, "lost": waiting - after}
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _wait_answers(url: str, timeout_s: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while (problem := CHECKS["redis"](url)) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"control Redis did not answer within {timeout_s:g} s: {problem}")
        time.sleep(0.05)
