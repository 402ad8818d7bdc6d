"""Bad linked.* payloads go to a dead letter with the reason and are counted; the consumer
keeps going and the good event behind them is handled."""

from __future__ import annotations

import asyncio
import json

import pytest

from msp_pipeline.bus import Bus
from msp_pipeline.contract.events import LinkedEvent
from msp_pipeline.metrics import Metrics

pytestmark = pytest.mark.integration

BAD = [b"{not json", b"[1, 2]", json.dumps({"tenantId": 5}).encode(),
       json.dumps({**json.loads(LinkedEvent.new(tenant_id="t", data_source_id="d", entity_type="identities",
                                                 sync_id="s", changed=[]).to_json()), "entityType": "printers"}).encode()]


def test_bad_events_are_dead_lettered_and_counted(nats_url: str) -> None:
    async def run() -> tuple[list[LinkedEvent], int, float]:
        metrics = Metrics()
        bus = await Bus.connect(nats_url, "test-dead-letters", metrics)
        handled: list[LinkedEvent] = []
        stop = asyncio.Event()

        async def handler(event: LinkedEvent) -> None:
            handled.append(event)
            stop.set()

        consumer = asyncio.create_task(bus.consume_linked("test-dl", handler, stop))
        await asyncio.sleep(0.5)
        for payload in BAD:
            await bus.publish("linked.identities", payload)
        good = LinkedEvent.new(tenant_id="t", data_source_id="d", entity_type="groups", sync_id="s", changed=[])
        await bus.publish("linked.groups", good.to_json())
        await asyncio.wait_for(consumer, 20)
        info = await bus.js.stream_info("PIPELINE", subjects_filter="deadletter.>")
        counted = sum(m.value for family in metrics.dead_letters.collect() for m in family.samples
                      if m.name.endswith("_total"))
        await bus.close()
        return handled, sum((info.state.subjects or {}).values()), counted

    handled, dead_lettered, counted = asyncio.run(run())
    assert [e.entityType for e in handled] == ["groups"]
    assert dead_lettered == len(BAD)
    assert counted == len(BAD)
