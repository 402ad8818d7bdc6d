"""Locust users that speak the pipeline's wire contract only: BullMQ jobs, scheduled_jobs
rows, graph_source changes and linked.* messages. No Python calls into the pipeline.

An enqueue that fails on a connection error (the server down or unreachable) is a failed
request, counted; any other exception is a bug and stops the user with its traceback."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import datetime, timezone
from types import MethodType

import gevent
import nats.errors
import psycopg
import redis
from gevent.lock import Semaphore
from gevent.pool import Group
from locust import User, constant, constant_pacing, task

from loadtests.recorder import RECORDER
from loadtests.shapes import SHAPES
from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.producer import LinkedPublisher, SyncJobProducer
from msp_pipeline.contract.subjects import linked_subject
from msp_pipeline.migration import TenantMigration
from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.pipeline.wire import (
    enqueue_legacy,
    enqueue_unified,
    path_for,
    sync_jobs,
)
from rollout_bench.tenants import MUTATION_KINDS, apply_mutation

# What a refused connection raises; nothing else may count as a failed request.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, psycopg.OperationalError, TimeoutError,
                                                      ConnectionError, OSError)
FIRE_DRAIN_S = 30.0
NATS_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, TimeoutError, ConnectionError, OSError)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat()


class SyncTriggerUser(User):
    """Open workload: one arrival user fires each tenant sync at its intended time (in its
    own greenlet, so a slow enqueue never delays the next arrival), and measures from the
    intended time. A sync = one job per entity type, on the path routing chooses."""

    fixed_count = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        self.config = LoadConfig.load()
        self.routing = TenantMigration.from_env(self.config.flags)
        self.shape = SHAPES[self.config.shape].with_rate(self.config.rate_syncs_per_s, self.config.duration_s)()
        # each tenant at its own cadence: round robin over a seeded order, not a random pick
        self.order = list(self.config.tenants)
        random.Random(self.config.seed).shuffle(self.order)
        self.rng = random.Random(self.config.seed)
        self.loop = asyncio.new_event_loop()
        self.queue = SyncJobProducer(self.config.redis_url, self.config.bullmq_prefix)
        self.conn = psycopg.connect(self.config.database_url, autocommit=True)
        self.lock = Semaphore()
        self.fires = Group()  # arrivals in flight: on_stop waits for them before closing the queue
        self.done = False
        # Connect and load the queue's scripts now: the first arrival must not pay the
        # generator's own connection set-up as pipeline latency.
        self.loop.run_until_complete(self.queue.ping())
        self.loop.run_until_complete(self.queue.counts())

    def on_stop(self) -> None:
        self.fires.join(timeout=FIRE_DRAIN_S)
        with self.lock:
            self.loop.run_until_complete(self.queue.close())
            self.loop.close()
            self.conn.close()

    @task
    def arrivals(self) -> None:
        if self.done:
            gevent.sleep(0.5)
            return
        offsets = list(self.shape.arrival_offsets(arrivals=self.config.arrivals, seed=self.config.seed))
        RECORDER.count("arrivals_planned", len(offsets))
        RECORDER.count("schedule_ms", int(offsets[-1] * 1000) if offsets else 0)
        started_mono, started_wall = time.monotonic(), time.time()
        for index, offset in enumerate(offsets):
            gevent.sleep(max(0.0, started_mono + offset - time.monotonic()))
            tenant = self.order[index % len(self.order)]
            self.fires.spawn(self.fire, index, tenant, started_wall + offset)
        self.done = True

    def fire(self, index: int, tenant: Tenant, intended_at: float) -> None:
        lateness_ms = max(0.0, (time.time() - intended_at) * 1000)
        RECORDER.observe("lateness_ms", lateness_ms)
        sync_id = f"{self.config.bullmq_prefix}-{index:06d}"
        jobs = sync_jobs(tenant.tenant_id, tenant.data_source_id, sync_id, _iso(intended_at))
        path = path_for(self.routing, tenant.tenant_id)
        error: Exception | None = None
        with self.lock:
            try:
                self.enqueue_bullmq(jobs) if path == "unified" else self.enqueue_legacy(jobs, intended_at)
            except CONNECTION_ERRORS as exc:  # the server refused: a failed request, counted
                error = exc
            except BaseException:  # a bug, not a measurement: stop the whole run, keep the traceback
                RECORDER.count("arrival_bugs")
                logging.exception("arrival %d failed with a bug; stopping the run", index)
                gevent.spawn(self.environment.runner.quit)
                raise
        RECORDER.count("arrivals_fired")
        done_ms = (time.time() - intended_at) * 1000
        if error is None:
            for job in jobs:
                RECORDER.job(job.job_key, path, tenant.tenant_id, job.intendedAt or "")
            RECORDER.observe("enqueue_ms", done_ms)
        RECORDER.count(f"syncs_{path}")
        self.environment.events.request.fire(request_type="bullmq" if path == "unified" else "legacy",
                                             name="sync-trigger", response_time=done_ms, response_length=len(jobs),
                                             exception=error, context={"tenant": tenant.tenant_id})

    def enqueue_bullmq(self, jobs: list[SyncJobData]) -> None:
        self.loop.run_until_complete(enqueue_unified(self.queue, jobs))

    def enqueue_legacy(self, jobs: list[SyncJobData], intended_at: float) -> None:
        enqueue_legacy(self.conn, jobs, datetime.fromtimestamp(intended_at, timezone.utc))


class TenantMutationUser(User):
    """Changes graph_source between syncs (a user disabled or enabled, a sign-in, the MFA
    policy edited), only on the tenants the run set aside as mutable."""

    fixed_count = 1
    wait_time = constant_pacing(2.0)

    def on_start(self) -> None:
        self.config = LoadConfig.load()
        self.wait_time = MethodType(constant_pacing(1.0 / max(0.01, self.config.mutations_per_s)), self)
        self.rng = random.Random(self.config.seed + 1)
        self.conn = psycopg.connect(self.config.database_url, autocommit=True)

    def on_stop(self) -> None:
        self.conn.close()

    @task
    def mutate(self) -> None:
        if not self.config.mutable_tenants:
            gevent.sleep(1)
            return
        started = time.perf_counter()
        error: Exception | None = None
        tenant = self.rng.choice(self.config.mutable_tenants)
        try:
            mutation = apply_mutation(self.conn, tenant, self.rng.choice(MUTATION_KINDS), self.rng,
                                      self.config.mutation_candidates.get(tenant, {}))
            if mutation.user:
                RECORDER.mutation(mutation.to_dict())
        except psycopg.OperationalError as exc:
            error = exc
        self.environment.events.request.fire(request_type="mutation", name="graph_source",
                                             response_time=(time.perf_counter() - started) * 1000,
                                             response_length=1, exception=error, context={})


class LinkedFloodUser(User):
    """Publishes linked.* events straight onto NATS (a flood of analysis triggers) at
    LINKED_FLOOD_PER_S from the config's extra settings."""

    fixed_count = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        self.config = LoadConfig.load()
        self.per_s = float(self.config.extra.get("LINKED_FLOOD_PER_S", "0"))
        self.loop = asyncio.new_event_loop()
        self.bus = self.loop.run_until_complete(LinkedPublisher.connect(self.config.nats_url, "load-linked-flood",
                                                                   self.config.nats_namespace))
        self.rng = random.Random(self.config.seed + 2)
        self.wait_time = MethodType(constant_pacing(1.0 / self.per_s) if self.per_s > 0 else constant(1), self)

    def on_stop(self) -> None:
        self.loop.run_until_complete(self.bus.close())
        self.loop.close()

    @task
    def publish(self) -> None:
        if self.per_s <= 0:
            return
        tenant = self.rng.choice(self.config.tenants)
        entity_type = self.rng.choice(ENTITY_TYPES)
        event = LinkedEvent.new(tenant_id=tenant.tenant_id, data_source_id=tenant.data_source_id,
                                entity_type=entity_type, sync_id=f"flood-{self.rng.getrandbits(40):x}", changed=[])
        started = time.perf_counter()
        error: Exception | None = None
        try:
            self.loop.run_until_complete(self.bus.publish(linked_subject(entity_type), event.to_json()))
        except NATS_ERRORS as exc:  # NATS refused: a failed request, counted
            error = exc
        self.environment.events.request.fire(request_type="nats", name="linked.*",
                                             response_time=(time.perf_counter() - started) * 1000,
                                             response_length=1, exception=error, context={})
