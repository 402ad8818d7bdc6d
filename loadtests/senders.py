"""Batched enqueues for the arrival engine. Arrivals handed over while a path's sends are
busy go out together, in one round trip, with each job exactly as one-by-one enqueueing
would write it:
- new path: BullMQ's own bulk add (`rollout_bench.pipeline.wire.enqueue_unified`: one
  MULTI/EXEC of BullMQ's add scripts, job ids and options as SyncJobProducer makes them);
- legacy path: the due `scheduled_jobs` rows of every sync in the batch (`enqueue_legacy`,
  each due at its own intended time) in one pipelined transaction.
Up to `max_in_flight` batches per path are out at once, each on its own connection, so a slow
enqueue holds no other send back; a batch is taken when its greenlet starts, so a burst of
arrivals coalesces instead of queueing behind one another."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import psycopg
import redis
from gevent.event import Event
from gevent.pool import Group

from loadtests.aio import shared_loop
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.producer import SyncJobProducer
from rollout_bench.load.config import Tenant
from rollout_bench.pipeline.wire import Path, enqueue_legacy, enqueue_unified

# What a refused or broken connection raises; nothing else may count as a failed request.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, psycopg.OperationalError, TimeoutError,
                                                      ConnectionError, OSError)
MAX_IN_FLIGHT = 8  # batches out at once per path (connections)
MAX_BATCH = 100  # syncs per round trip (500 jobs)
SEND_TIMEOUT_S = 30.0


@dataclass
class Arrival:
    """One sync, fired at its intended time: a job per entity type, on the path routing chose."""

    index: int
    tenant: Tenant
    path: Path
    intended_at: float  # epoch seconds on this machine's clock
    jobs: list[SyncJobData]
    sent_at: float = 0.0  # epoch seconds when its batch went out
    acked_at: float = 0.0  # epoch seconds when the server acknowledged (or refused) it
    error: BaseException | None = field(default=None, repr=False)


Send = Callable[[list[Arrival]], None]
Done = Callable[[list[Arrival]], None]


class Sink(Protocol):
    """Where a path's batches go (a server behind a small interface, so tests can swap it)."""

    def prepare(self) -> None: ...

    def send(self, batch: list[Arrival]) -> None: ...

    def close(self) -> None: ...


class BatchSender:
    """Takes arrivals from the arrival greenlet (`submit`, never blocks) and sends them in
    batches from up to `max_in_flight` greenlets. `done` receives every batch once sent
    (each arrival with `error` set when the server refused it); a bug in `send` goes to
    `on_bug`, which stops the run."""

    def __init__(self, send: Send, done: Done, on_bug: Callable[[BaseException], None], *,
                 max_in_flight: int = MAX_IN_FLIGHT, max_batch: int = MAX_BATCH) -> None:
        self.send, self.done, self.on_bug = send, done, on_bug
        self.max_in_flight, self.max_batch = max_in_flight, max_batch
        self.pending: deque[Arrival] = deque()
        self.in_flight = 0
        self.starting = False  # a sender greenlet spawned, not yet run: it will take what is pending
        self.greenlets = Group()
        self.idle = Event()
        self.idle.set()

    def submit(self, arrival: Arrival) -> None:
        self.pending.append(arrival)
        self.idle.clear()
        self._dispatch()

    def _dispatch(self) -> None:
        if self.pending and not self.starting and self.in_flight < self.max_in_flight:
            self.starting = True
            self.in_flight += 1
            self.greenlets.spawn(self._run)
        elif not self.pending and self.in_flight == 0:
            self.idle.set()

    def _run(self) -> None:
        self.starting = False
        batch = [self.pending.popleft() for _ in range(min(self.max_batch, len(self.pending)))]
        self._dispatch()  # more than one batch waiting: the next goes out on another connection
        try:
            if batch:
                self._send(batch)
        finally:
            self.in_flight -= 1
            self._dispatch()

    def _send(self, batch: list[Arrival]) -> None:
        sent_at = time.time()
        error: BaseException | None = None
        for arrival in batch:
            arrival.sent_at = sent_at
        try:
            self.send(batch)
        except CONNECTION_ERRORS as exc:  # the server refused or broke: failed requests, counted
            error = exc
        except BaseException as exc:  # a bug, not a measurement: the run stops with the traceback
            self.on_bug(exc)
            raise
        acked_at = time.time()
        for arrival in batch:
            arrival.acked_at, arrival.error = acked_at, error
        self.done(batch)

    def drain(self, timeout_s: float) -> bool:
        """Waits until every submitted arrival was sent (or `timeout_s` passed); True if all were."""
        return bool(self.idle.wait(timeout_s))

    def unsent(self) -> int:
        return len(self.pending)


class UnifiedSink:
    """The new path: one producer on this process's asyncio loop (its connection pool serves
    the batches in flight)."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.loop = shared_loop()
        self.producer = SyncJobProducer(redis_url, prefix)

    def prepare(self) -> None:
        """Connects and loads BullMQ's scripts, so the first arrival does not pay for them."""
        self.loop.run(self.producer.ping(), SEND_TIMEOUT_S)
        self.loop.run(self.producer.counts(), SEND_TIMEOUT_S)

    def send(self, batch: list[Arrival]) -> None:
        self.loop.run(enqueue_unified(self.producer, [job for arrival in batch for job in arrival.jobs]),
                      SEND_TIMEOUT_S)

    def close(self) -> None:
        self.loop.run(self.producer.close(), SEND_TIMEOUT_S)


class LegacySink:
    """The legacy path: autocommit connections opened on first use, one per batch in flight."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.idle: list[psycopg.Connection[Any]] = []
        self.opened: list[psycopg.Connection[Any]] = []

    def prepare(self) -> None:
        """Nothing: a run with no legacy tenant never opens a connection."""

    def send(self, batch: list[Arrival]) -> None:
        conn = self.idle.pop() if self.idle else self._open()
        try:
            with conn.pipeline(), conn.transaction():
                for arrival in batch:
                    enqueue_legacy(conn, arrival.jobs, datetime.fromtimestamp(arrival.intended_at, timezone.utc))
        except BaseException:
            self.opened.remove(conn)
            conn.close()  # broken or in an unknown state: never reused
            raise
        self.idle.append(conn)

    def _open(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.database_url, autocommit=True)
        self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.opened:
            conn.close()
        self.idle, self.opened = [], []
