"""What a drill shows about its own fault: which jobs a process held when it was killed,
what waited in Redis at a kill, what the processes counted, and the checks every drill
ends with (all jobs completed, refusals only inside the fault window, every pipeline
process alive, time to recover)."""

from __future__ import annotations

import re
import urllib.request
from typing import TYPE_CHECKING

import redis

from msp_pipeline.contract.subjects import QUEUE_NAME

if TYPE_CHECKING:
    from rollout_bench.collect.records import JobTotals
    from rollout_bench.drills.base import DrillContext, DrillResult
    from rollout_bench.drills.load import SteadyLoad


def jobs_held_by(redis_url: str, prefix: str, pid: int) -> list[str]:
    """Active jobs whose lock token names the worker process `pid` (GuardedWorker's ids)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
    try:
        active = client.lrange(f"{prefix}:{QUEUE_NAME}:active", 0, -1)
        if not active:
            return []
        tokens = client.mget([f"{prefix}:{QUEUE_NAME}:{job_id}:lock" for job_id in active])
    finally:
        client.close()
    return [job_id for job_id, token in zip(active, tokens) if token and token.startswith(f"pid{pid}-")]


def queued_jobs(redis_url: str, prefix: str) -> dict[str, list[str]]:
    """Job ids waiting (wait list and prioritized set) and in flight (active) right now."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
    key = f"{prefix}:{QUEUE_NAME}"
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.lrange(f"{key}:wait", 0, -1)
            pipe.zrange(f"{key}:prioritized", 0, -1)
            pipe.lrange(f"{key}:active", 0, -1)
            wait, prioritized, active = pipe.execute()
    finally:
        client.close()
    return {"waiting": list(wait) + list(prioritized), "active": list(active)}


def metric_total(url: str, name: str, label_pattern: str = "") -> float:
    """Sum of a counter's samples on one /metrics page whose labels match `label_pattern`."""
    with urllib.request.urlopen(url, timeout=2) as response:
        text = response.read().decode()
    total = 0.0
    for match in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+([0-9.eE+-]+)$", text, re.MULTILINE):
        if re.search(label_pattern, match.group(1) or ""):
            total += float(match.group(2))
    return total


def first_completion_after(ctx: DrillContext, moment: float) -> float | None:
    """Seconds from `moment` to the first job completed after it (the recovery time)."""
    value = ctx.query("drills/first_finish_after", (moment,))[0][0]
    return None if value is None else round(float(value) - moment, 2)


def common_checks(result: DrillResult, ctx: DrillContext, totals: JobTotals, load: SteadyLoad,
                  fault_window: tuple[float, float]) -> None:
    """The checks every drill ends with, and the figures they rest on."""
    start, end = fault_window
    recovery = first_completion_after(ctx, end)
    outside = [round(at - start, 2) for at, _ in load.refusals if not start - 1.0 <= at <= end + 5.0]
    dead = ctx.supervisor.dead()
    result.figures.update({"enqueued": totals.enqueued, "completed": totals.completed, "failed": totals.failed,
                           "lost": totals.lost, "refused_arrivals": len(load.refusals),
                           "refusal_reasons": sorted({why for _, why in load.refusals}),
                           "fault_window_s": round(end - start, 2), "recovery_s": recovery})
    result.check("completed == enqueued", f"== {totals.enqueued}", totals.completed,
                 totals.enqueued > 0 and totals.completed == totals.enqueued)
    result.check("refusals outside the fault window", "== 0", len(outside), not outside)
    result.check("load errors other than connection refusals", "== 0", load.errors, not load.errors)
    result.check("pipeline processes dead at the end (not killed by the drill)", "none", dead or "none", not dead)
    result.check("recovered: a job completed after the fault ended", "seen", recovery, recovery is not None)

