"""A run on shared servers uses its own JetStream stream, subjects and consumers
(NATS_NAMESPACE): its events never reach the default stream nor another run's, and deleting
its stream leaves the default one alone."""

from __future__ import annotations

import asyncio

import pytest

from msp_pipeline.bus import Bus
from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.contract.settings import ConfigError, Settings
from msp_pipeline.contract.subjects import in_namespace, stream_name
from rollout_bench.stack.nats import delete_pipeline_stream, subject_counts

pytestmark = pytest.mark.integration


def test_names_in_a_namespace() -> None:
    assert stream_name("lt-abc") == "PIPELINE_lt-abc" and stream_name() == "PIPELINE"
    assert in_namespace("linked.identities", "lt-abc") == "lt-abc.linked.identities"
    with pytest.raises(ConfigError, match="NATS_NAMESPACE='a.b'"):
        Settings.from_env({"DATABASE_URL": "x", "REDIS_URL": "y", "NATS_URL": "z", "NATS_NAMESPACE": "a.b"})


def test_two_namespaces_never_see_each_others_events(nats_url: str) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        mine, other, default = [await Bus.connect(nats_url, f"ns-{n}", namespace=n) for n in ("run-a", "run-b", "")]
        got: dict[str, list[str]] = {"run-a": [], "run-b": []}
        stop = asyncio.Event()

        def collector(name: str):  # type: ignore[no-untyped-def]
            async def handle(event: LinkedEvent) -> None:
                got[name].append(event.syncId)
            return handle

        tasks = [asyncio.create_task(bus.consume_linked("analyzer", collector(name), stop))
                 for bus, name in ((mine, "run-a"), (other, "run-b"))]
        await asyncio.sleep(0.5)
        for bus, sync in ((mine, "sync-a"), (other, "sync-b")):
            event = LinkedEvent.new(tenant_id="t", data_source_id="d", entity_type="identities", sync_id=sync,
                                    changed=[])
            await bus.publish("linked.identities", event.to_json())
        for _ in range(100):
            if got["run-a"] and got["run-b"]:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        for bus in (mine, other, default):
            await bus.close()
        return got["run-a"], got["run-b"]

    try:
        run_a, run_b = asyncio.run(scenario())
        assert run_a == ["sync-a"] and run_b == ["sync-b"]
        assert subject_counts(nats_url, ">", "run-a") == {"run-a.linked.identities": 1}
        assert subject_counts(nats_url) == {}  # the default stream saw nothing
    finally:
        delete_pipeline_stream(nats_url, "run-a")
        delete_pipeline_stream(nats_url, "run-b")
    assert subject_counts(nats_url, ">", "run-a") == {}
