"""Locust users that speak the pipeline's wire contract only: graph_source changes and
linked.* messages. No Python calls into the pipeline. (The sync arrivals are not users: each
process fires its share of the schedule, loadtests/arrivals.py.)

A request that fails on a connection error (the server down or unreachable) is a failed
request, counted; any other exception is a bug and stops the user with its traceback."""

from __future__ import annotations

import random
import time
from types import MethodType
from typing import Any

import gevent
import nats.errors
import psycopg
from locust import User, constant, constant_pacing, task

from loadtests.aio import shared_loop
from loadtests.recorder import RECORDER
from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.contract.producer import LinkedPublisher
from msp_pipeline.contract.subjects import linked_subject
from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.load.config import LoadConfig
from rollout_bench.tenants import MUTATION_KINDS, apply_mutation

NATS_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, TimeoutError, ConnectionError, OSError)
NATS_TIMEOUT_S = 30.0


class TenantMutationUser(User):
    """Changes graph_source between syncs (a user disabled or enabled, a sign-in, the MFA
    policy edited), only on the tenants the run set aside as mutable."""

    fixed_count = 1
    wait_time = constant_pacing(2.0)

    def on_start(self) -> None:
        self.config = LoadConfig.load()
        self.wait_time = MethodType(constant_pacing(1.0 / max(0.01, self.config.mutations_per_s)), self)
        self.rng = random.Random(self.config.seed + 1)
        self.conn: psycopg.Connection[Any] | None = None  # opened on first use: no mutable tenant, no connection

    def on_stop(self) -> None:
        if self.conn is not None:
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
            if self.conn is None:
                self.conn = psycopg.connect(self.config.database_url, autocommit=True)
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
        self.loop = shared_loop()
        self.bus = self.loop.run(LinkedPublisher.connect(self.config.nats_url, "load-linked-flood",
                                                         self.config.nats_namespace), NATS_TIMEOUT_S)
        self.rng = random.Random(self.config.seed + 2)
        self.wait_time = MethodType(constant_pacing(1.0 / self.per_s) if self.per_s > 0 else constant(1), self)

    def on_stop(self) -> None:
        self.loop.run(self.bus.close(), NATS_TIMEOUT_S)

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
            self.loop.run(self.bus.publish(linked_subject(entity_type), event.to_json()), NATS_TIMEOUT_S)
        except NATS_ERRORS as exc:  # NATS refused: a failed request, counted
            error = exc
        self.environment.events.request.fire(request_type="nats", name="linked.*",
                                             response_time=(time.perf_counter() - started) * 1000,
                                             response_length=1, exception=error, context={})
