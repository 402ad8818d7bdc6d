"""NATS JetStream: one stream for the event flow, durable pull consumers, dead letters.

A consumer's handler gets a parsed `LinkedEvent`; a payload that does not parse goes to
`deadletter.<source>` with the reason, is counted, logged and acked: it never crashes the
consumer and nothing else is lost. A handler that raises gets the message redelivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from msp_pipeline.contract.events import EventError, LinkedEvent
from msp_pipeline.contract.subjects import (
    STREAM_NAME,
    STREAM_SUBJECTS,
    dead_letter_subject,
)
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics

ACK_WAIT_S = 120.0
MAX_DELIVER = 5
STREAM_MAX_AGE_S = 86_400.0

EventHandler = Callable[[LinkedEvent], Awaitable[None]]


class Bus:
    def __init__(self, nc: NatsClient, metrics: Metrics | None = None) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.metrics = metrics

    @classmethod
    async def connect(cls, url: str, name: str, metrics: Metrics | None = None) -> Bus:
        nc = await nats.connect(url, name=name, connect_timeout=5, max_reconnect_attempts=-1,
                                reconnect_time_wait=0.5)
        bus = cls(nc, metrics)
        await bus.ensure_stream()
        return bus

    async def close(self) -> None:
        """Consumers ack what they handled before returning, so a plain close loses nothing."""
        if not self.nc.is_closed:
            await self.nc.close()

    async def ensure_stream(self) -> None:
        config = StreamConfig(name=STREAM_NAME, subjects=STREAM_SUBJECTS, storage=StorageType.FILE,
                              max_age=STREAM_MAX_AGE_S)
        try:
            await self.js.stream_info(STREAM_NAME)
        except NotFoundError:
            try:
                await self.js.add_stream(config)
            except BadRequestError:  # created meanwhile by another process
                await self.js.stream_info(STREAM_NAME)

    async def publish(self, subject: str, payload: bytes) -> None:
        await self.js.publish(subject, payload, stream=STREAM_NAME)

    async def dead_letter(self, source: str, payload: bytes, reason: str) -> None:
        log("Bus", "dead-letter", reason, level="warn", source=source, bytes=len(payload))
        if self.metrics:
            self.metrics.dead_letters.labels(source, reason.split(":")[0][:60]).inc()
        await self.js.publish(dead_letter_subject(source), payload, stream=STREAM_NAME,
                              headers={"Pipeline-Dead-Letter-Reason": reason[:500]})

    async def consume_linked(self, durable: str, handler: EventHandler, stop: asyncio.Event,
                             subject: str = "linked.>", batch: int = 50) -> None:
        """Runs until `stop` is set; then finishes the batch in hand (drain) and returns."""
        config = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.NEW, ack_wait=ACK_WAIT_S,
                                max_deliver=MAX_DELIVER, filter_subject=subject)
        sub = await self.js.pull_subscribe(subject, durable=durable, stream=STREAM_NAME, config=config)
        while not stop.is_set():
            try:
                messages = await sub.fetch(batch, timeout=0.5)
            except (NatsTimeoutError, asyncio.TimeoutError):
                continue
            for msg in messages:
                await self._handle(durable, msg, handler)

    async def _handle(self, durable: str, msg: Msg, handler: EventHandler) -> None:
        try:
            event = LinkedEvent.parse(msg.data)
        except EventError as exc:
            await self.dead_letter("linked", msg.data, f"{durable}: {exc}")
            await msg.ack()
            return
        try:
            await handler(event)
        except Exception as exc:  # the handler failed: count, log, redeliver later
            log("Bus", "handler-error", f"{durable}: {type(exc).__name__}: {exc}", level="error",
                tenantId=event.tenantId, syncId=event.syncId)
            if self.metrics:
                self.metrics.errors.labels(durable, type(exc).__name__).inc()
            await msg.nak(delay=1.0)
            return
        await msg.ack()
