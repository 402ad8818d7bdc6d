"""The open workload: each Locust process fires its share of the run's arrival schedule,
every sync at its intended time, whatever the enqueues before it are doing.

One greenlet walks the share (every `count`-th arrival of the whole schedule, from `index`)
and, at each intended time, hands the sync to its path's batch sender (loadtests/senders.py)
without waiting. A sync's figures are taken from its intended time: lateness until its batch
went out (the generator's own delay: a schedule held means this stays small), enqueue time
until the server acknowledged it. Every enqueued job is recorded with its key and intended
time (loadtests/recorder.py). An arrival not sent by the end counts as dropped."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import gevent
from gevent.event import Event

from loadtests.recorder import RECORDER
from loadtests.senders import Arrival, BatchSender, LegacySink, Sink, UnifiedSink
from msp_pipeline.migration import TenantMigration
from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.pipeline.wire import PATHS, Path, path_for, sync_jobs

FIRE_DRAIN_S = 30.0  # at the end, how long the last enqueues may take before they count as dropped

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Share:
    """Arrivals index, index + count, index + 2 count, ... of the schedule whose offset 0 falls
    at `start_at` (epoch seconds, shared by every process of the run)."""

    index: int
    count: int
    start_at: float

    def mine(self, offsets: Sequence[float]) -> list[tuple[int, float]]:
        return [(i, offsets[i]) for i in range(self.index, len(offsets), self.count)]


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat()


def tenant_order(config: LoadConfig) -> list[Tenant]:
    """Each tenant at its own cadence: a round robin over a seeded order, not a random pick."""
    order = list(config.tenants)
    random.Random(config.seed).shuffle(order)
    return order


class ArrivalEngine:
    def __init__(self, environment: Any, config: LoadConfig, offsets: Sequence[float], share: Share,
                 on_finished: Callable[[], None] | None = None, sinks: Mapping[Path, Sink] | None = None) -> None:
        self.environment, self.config, self.share = environment, config, share
        self.order = tenant_order(config)
        self.mine = share.mine(offsets) if self.order else []
        if not self.order and offsets:
            LOG.warning("the run's config names no tenant: none of its %d arrivals can fire", len(offsets))
        routing = TenantMigration.from_env(config.flags)
        self.paths: dict[str, Path] = {t.tenant_id: path_for(routing, t.tenant_id) for t in self.order}
        self.sinks: Mapping[Path, Sink] = sinks or {"unified": UnifiedSink(config.redis_url, config.bullmq_prefix),
                                                     "legacy": LegacySink(config.database_url)}
        self.senders = {path: BatchSender(self.sinks[path].send, self._record, self._bug) for path in PATHS}
        self.on_finished = on_finished
        self.finished = Event()
        self.greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self.greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Stops firing (what is left of the share counts as dropped), sends what was fired, and
        waits for the engine to finish."""
        if self.greenlet is not None and not self.greenlet.dead:
            self.greenlet.kill(block=True)
        self.finished.wait(FIRE_DRAIN_S + 5)

    def _run(self) -> None:
        try:
            if self.mine and any(path == "unified" for path in self.paths.values()):
                self.sinks["unified"].prepare()
            zero = time.monotonic() + (self.share.start_at - time.time())
            for index, offset in self.mine:
                delay = zero + offset - time.monotonic()
                if delay > 0:
                    gevent.sleep(delay)
                self._fire(index, self.share.start_at + offset)
        finally:
            self._finish()

    def _fire(self, index: int, intended_at: float) -> None:
        tenant = self.order[index % len(self.order)]
        sync_id = f"{self.config.bullmq_prefix}-{index:06d}"
        jobs = sync_jobs(tenant.tenant_id, tenant.data_source_id, sync_id, _iso(intended_at))
        path = self.paths[tenant.tenant_id]
        self.senders[path].submit(Arrival(index, tenant, path, intended_at, jobs))

    def _finish(self) -> None:
        deadline = time.monotonic() + FIRE_DRAIN_S
        for path, sender in self.senders.items():
            if not sender.drain(max(0.0, deadline - time.monotonic())):
                LOG.warning("%d %s arrivals not sent within %g s of the end: counted as dropped",
                                sender.unsent(), path, FIRE_DRAIN_S)
        for sender in self.senders.values():
            sender.greenlets.kill(block=True)
        for sink in self.sinks.values():
            sink.close()
        self.finished.set()
        if self.on_finished is not None:
            self.on_finished()

    def _record(self, batch: list[Arrival]) -> None:
        request_type = "bullmq" if batch[0].path == "unified" else "legacy"
        for arrival in batch:
            RECORDER.count("arrivals_fired")
            RECORDER.observe("lateness_ms", max(0.0, (arrival.sent_at - arrival.intended_at) * 1000))
            done_ms = (arrival.acked_at - arrival.intended_at) * 1000
            if arrival.error is None:
                for job in arrival.jobs:
                    RECORDER.job(job.job_key, arrival.path, arrival.tenant.tenant_id, job.intendedAt or "")
                RECORDER.observe("enqueue_ms", done_ms)
            RECORDER.count(f"syncs_{arrival.path}")
            self.environment.events.request.fire(request_type=request_type, name="sync-trigger",
                                                 response_time=done_ms, response_length=len(arrival.jobs),
                                                 exception=arrival.error,
                                                 context={"tenant": arrival.tenant.tenant_id})

    def _bug(self, exc: BaseException) -> None:
        RECORDER.count("arrival_bugs")
        LOG.error("an arrival failed with a bug; stopping the run", exc_info=exc)
        gevent.spawn(self.environment.runner.quit)
