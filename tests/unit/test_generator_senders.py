"""The arrival engine and its batch senders, with the servers swapped for fakes: arrivals are
fired at their intended time whatever the enqueues are doing, a burst coalesces into one
batch, a slow enqueue holds no other back, a refused enqueue is a counted failure and a bug
stops the run, and every fired sync is recorded with its job keys and intended time."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import gevent
import pytest
from gevent.event import Event

from loadtests.arrivals import ArrivalEngine, Share
from loadtests.recorder import RECORDER
from loadtests.senders import Arrival, BatchSender
from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.pipeline.wire import sync_jobs

DEADLINE_S = 10.0


def arrival(index: int, path: str = "unified") -> Arrival:
    tenant = Tenant(f"t-{index}", f"ds-{index}")
    return Arrival(index, tenant, path, time.time(), sync_jobs(tenant.tenant_id, tenant.data_source_id, f"s-{index}"))  # type: ignore[arg-type]


class Recorded:
    """What a fake sink and the sender's callbacks saw."""

    def __init__(self) -> None:
        self.sent: list[list[int]] = []
        self.done: list[list[Arrival]] = []
        self.bugs: list[BaseException] = []

    def on_done(self, batch: list[Arrival]) -> None:
        self.done.append(batch)


def test_a_burst_while_a_send_is_busy_goes_out_as_one_batch() -> None:
    seen, release = Recorded(), Event()

    def send(batch: list[Arrival]) -> None:
        seen.sent.append([a.index for a in batch])
        if len(seen.sent) == 1:
            release.wait(DEADLINE_S)

    sender = BatchSender(send, seen.on_done, seen.bugs.append, max_in_flight=1)
    sender.submit(arrival(0))
    gevent.sleep(0)  # the first batch goes out and blocks
    for index in range(1, 10):
        sender.submit(arrival(index))
    release.set()
    assert sender.drain(DEADLINE_S)
    assert seen.sent == [[0], list(range(1, 10))]
    assert [len(b) for b in seen.done] == [1, 9] and not seen.bugs


def test_a_slow_enqueue_holds_no_other_back() -> None:
    seen, release = Recorded(), Event()

    def send(batch: list[Arrival]) -> None:
        seen.sent.append([a.index for a in batch])
        if batch[0].index == 0:
            release.wait(DEADLINE_S)

    sender = BatchSender(send, seen.on_done, seen.bugs.append, max_in_flight=2)
    sender.submit(arrival(0))
    gevent.sleep(0)
    sender.submit(arrival(1))
    deadline = time.monotonic() + DEADLINE_S
    while not seen.done and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert [a.index for a in seen.done[0]] == [1], "the second sync was acknowledged while the first hung"
    release.set()
    assert sender.drain(DEADLINE_S)
    assert [[a.index for a in b] for b in seen.done] == [[1], [0]]


def test_batches_are_capped() -> None:
    seen = Recorded()
    sender = BatchSender(lambda batch: seen.sent.append([a.index for a in batch]), seen.on_done, seen.bugs.append,
                         max_in_flight=1, max_batch=3)
    for index in range(7):
        sender.submit(arrival(index))
    assert sender.drain(DEADLINE_S)
    assert seen.sent == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_refused_enqueue_is_a_failed_request_with_its_times() -> None:
    seen = Recorded()

    def refuse(batch: list[Arrival]) -> None:
        raise ConnectionError("connection refused")

    sender = BatchSender(refuse, seen.on_done, seen.bugs.append)
    sender.submit(arrival(0))
    assert sender.drain(DEADLINE_S)
    (batch,) = seen.done
    assert isinstance(batch[0].error, ConnectionError)
    assert batch[0].intended_at <= batch[0].sent_at <= batch[0].acked_at
    assert not seen.bugs


def test_a_bug_in_an_enqueue_goes_to_the_bug_handler_not_to_the_figures() -> None:
    seen = Recorded()

    def broken(batch: list[Arrival]) -> None:
        raise KeyError("a bug")

    sender = BatchSender(broken, seen.on_done, seen.bugs.append)
    sender.submit(arrival(0))
    assert sender.drain(DEADLINE_S)
    assert [type(b) for b in seen.bugs] == [KeyError] and seen.done == []


def test_drain_says_when_a_send_did_not_finish() -> None:
    seen, release = Recorded(), Event()
    sender = BatchSender(lambda batch: release.wait(DEADLINE_S), seen.on_done, seen.bugs.append)
    sender.submit(arrival(0))
    assert not sender.drain(0.05)
    release.set()
    assert sender.drain(DEADLINE_S)


def test_shares_partition_the_schedule() -> None:
    offsets = [0.1 * i for i in range(10)]
    shares = [Share(k, 3, 0.0).mine(offsets) for k in range(3)]
    indexes = sorted(i for share in shares for i, _ in share)
    assert indexes == list(range(10))
    assert shares[1] == [(1, offsets[1]), (4, offsets[4]), (7, offsets[7])]


class FakeSink:
    def __init__(self) -> None:
        self.batches: list[list[Arrival]] = []
        self.prepared = self.closed = False

    def prepare(self) -> None:
        self.prepared = True

    def send(self, batch: list[Arrival]) -> None:
        self.batches.append(batch)

    def close(self) -> None:
        self.closed = True


class FakeEvents:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def fire(self, **kwargs: Any) -> None:
        self.requests.append(kwargs)


class FakeEnvironment:
    def __init__(self) -> None:
        self.events = type("Events", (), {})()
        self.events.request = FakeEvents()
        self.runner = type("Runner", (), {"quit": lambda self: None})()


def engine_config(tmp_path: Path, percentage: str) -> LoadConfig:
    tenants = [Tenant(f"tenant-{i:02d}", f"ds-{i:02d}") for i in range(8)]
    return LoadConfig("redis://127.0.0.1:9/0", "postgresql://u@127.0.0.1:9/db", "nats://127.0.0.1:9", "unit", 
                      {"USE_BULLMQ": "true", "MIGRATION_PERCENTAGE": percentage}, tenants, [], "constant",
                      str(tmp_path))


@pytest.fixture
def recorder() -> Any:
    RECORDER.drain()
    yield RECORDER
    RECORDER.drain()


def test_the_engine_fires_its_share_at_the_intended_times_and_records_every_job(tmp_path: Path,
                                                                                recorder: Any) -> None:
    config = engine_config(tmp_path, "50")
    sinks = {"unified": FakeSink(), "legacy": FakeSink()}
    environment, finished = FakeEnvironment(), []
    offsets = [0.02 * i for i in range(1, 31)]
    share = Share(1, 2, time.time() + 0.05)
    engine = ArrivalEngine(environment, config, offsets, share, lambda: finished.append(True), sinks)  # type: ignore[arg-type]
    engine.start()
    assert engine.finished.wait(DEADLINE_S)
    sent = [a for sink in sinks.values() for batch in sink.batches for a in batch]
    assert sorted(a.index for a in sent) == list(range(1, 30, 2)), "every arrival of the share, once"
    assert all(a.sent_at >= a.intended_at for a in sent), "none fired before its time"
    assert {a.path for a in sent} == {"unified", "legacy"}, "both paths, as routing chose"
    for a in sent:
        assert a.intended_at == pytest.approx(share.start_at + offsets[a.index])
        assert [j.job_key for j in a.jobs] == [f"unit-{a.index:06d}:{t}:0" for t in ENTITY_TYPES]
        assert datetime.fromisoformat(a.jobs[0].intendedAt or "").timestamp() == pytest.approx(a.intended_at)
    data = recorder.drain()
    assert data["counts"]["arrivals_fired"] == 15
    assert len(data["jobs"]) == 15 * len(ENTITY_TYPES)
    assert {j["job_key"] for j in data["jobs"]} == {j.job_key for a in sent for j in a.jobs}
    assert len(environment.events.request.requests) == 15
    assert finished == [True] and all(s.closed for s in sinks.values())


def test_stopping_the_engine_leaves_the_unfired_arrivals_dropped(tmp_path: Path, recorder: Any) -> None:
    sinks = {"unified": FakeSink(), "legacy": FakeSink()}
    offsets = [0.01, 30.0, 60.0]
    engine = ArrivalEngine(FakeEnvironment(), engine_config(tmp_path, "100"), offsets, Share(0, 1, time.time()),
                           sinks=sinks)  # type: ignore[arg-type]
    engine.start()
    deadline = time.monotonic() + DEADLINE_S
    while not sinks["unified"].batches and time.monotonic() < deadline:
        gevent.sleep(0.01)
    engine.stop()
    assert engine.finished.is_set()
    assert recorder.drain()["counts"]["arrivals_fired"] == 1
    assert sinks["unified"].prepared and not sinks["legacy"].batches
