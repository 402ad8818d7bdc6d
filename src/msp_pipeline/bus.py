"""NATS JetStream: one stream for the event flow, durable pull consumers, dead letters.

A consumer's handler gets a parsed `LinkedEvent`; a payload that does not parse (or is
over `max_message_bytes`, refused before parsing) goes to `deadletter.<source>` with the
reason, is counted, logged and acked: it never crashes the consumer and nothing else is
lost. A message too large to dead-letter whole (payload plus headers over the server's
max_payload) is dead-lettered as a truncated JSON record with its size and reason. A
failed dead-letter publish is counted and logged, never raised. A handler that raises gets
the message redelivered. NATS outages are waited out: fetch, ack and publish errors of the
connection are retried, they never end a consumer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError, OutboundBufferLimitError
from nats.errors import Error as NatsError
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

from msp_pipeline.contract.events import MAX_MESSAGE_BYTES, PUBLISH_TIMEOUT_S, EventError, LinkedEvent
from msp_pipeline.contract.subjects import (
    STREAM_SUBJECTS,
    dead_letter_subject,
    durable_in_namespace,
    in_namespace,
    stream_name,
)
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics

ACK_WAIT_S = 120.0
MAX_DELIVER = 5
STREAM_MAX_AGE_S = 86_400.0
DEAD_LETTER_HEAD_BYTES = 4_096  # bytes of the payload kept in a truncated dead-letter record
HEADER_ROOM_BYTES = 2_048  # room left for the protocol line and headers under max_payload
FETCH_ERROR_BACKOFF_S = 0.5
PUBLISH_RETRY_S = 120.0  # and is repeated for this long while NATS is unreachable
PUBLISH_RETRY_PAUSE_S = 0.5

EventHandler = Callable[[LinkedEvent], Awaitable[None]]


class Bus:
    def __init__(self, nc: NatsClient, metrics: Metrics | None = None,
                 max_message_bytes: int = MAX_MESSAGE_BYTES, namespace: str = "") -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.metrics = metrics
        self.max_message_bytes = max_message_bytes
        self.namespace = namespace
        self.stream = stream_name(namespace)

    @classmethod
    async def connect(cls, url: str, name: str, metrics: Metrics | None = None,
                      max_message_bytes: int = MAX_MESSAGE_BYTES, namespace: str = "") -> Bus:
        nc = await nats.connect(url, name=name, connect_timeout=5, max_reconnect_attempts=-1,
                                reconnect_time_wait=0.5, error_cb=_log_client_error)
        bus = cls(nc, metrics, max_message_bytes, namespace)
        await bus.ensure_stream()
        return bus

    async def close(self) -> None:
        """Consumers ack what they handled before returning, so a plain close loses nothing."""
        if not self.nc.is_closed:
            await self.nc.close()

    async def ensure_stream(self) -> None:
        config = StreamConfig(name=self.stream, subjects=[in_namespace(s, self.namespace) for s in STREAM_SUBJECTS],
                              storage=StorageType.FILE, max_age=STREAM_MAX_AGE_S)
        try:
            await self.js.stream_info(self.stream)
        except NotFoundError:
            try:
                await self.js.add_stream(config)
            except BadRequestError:  # created meanwhile by another process
                await self.js.stream_info(self.stream)

    async def publish(self, subject: str, payload: bytes, *, retry_s: float | None = None) -> None:
        """Publishes and waits for JetStream's ack. Publisher retry: while NATS is away the
        publish is repeated (same Nats-Msg-Id, so the stream stores it once) until
        `retry_s` (default PUBLISH_RETRY_S) has passed; then the last error is raised."""
        deadline = asyncio.get_running_loop().time() + (PUBLISH_RETRY_S if retry_s is None else retry_s)
        headers = {"Nats-Msg-Id": uuid.uuid4().hex}
        while True:
            try:
                await self.js.publish(in_namespace(subject, self.namespace), payload, stream=self.stream, headers=headers,
                                      timeout=PUBLISH_TIMEOUT_S)
                return
            except (NatsTimeoutError, NoRespondersError, ConnectionClosedError, OutboundBufferLimitError,
                    asyncio.TimeoutError, OSError) as exc:
                if asyncio.get_running_loop().time() >= deadline:
                    raise
                if self.metrics:
                    self.metrics.errors.labels("Bus", f"publish_retry_{type(exc).__name__}").inc()
                log("Bus", "publish-retry", f"{subject}: {type(exc).__name__}: {exc}", level="warn")
                await asyncio.sleep(PUBLISH_RETRY_PAUSE_S)

    async def dead_letter(self, source: str, payload: bytes, reason: str) -> bool:
        """Publishes to deadletter.<source>; True when stored. Never raises for NATS errors:
        a failed publish is counted (errors{module="Bus", error_type="dead_letter_failed"})."""
        log("Bus", "dead-letter", reason[:500], level="warn", source=source, bytes=len(payload))
        if self.metrics:
            self.metrics.dead_letters.labels(source, reason.split(":")[0][:60]).inc()
        headers = {"Pipeline-Dead-Letter-Reason": reason[:500]}
        body = payload
        if len(payload) + HEADER_ROOM_BYTES > self._max_payload():
            body = truncated_record(payload, reason)
            headers["Pipeline-Dead-Letter-Truncated"] = str(len(payload))
        try:
            await self.js.publish(in_namespace(dead_letter_subject(source), self.namespace), body, stream=self.stream,
                                  headers=headers,
                                  timeout=PUBLISH_TIMEOUT_S)
        except (NatsError, OSError, asyncio.TimeoutError) as exc:
            log("Bus", "dead-letter-failed", f"{type(exc).__name__}: {exc}", level="error", source=source,
                bytes=len(body))
            if self.metrics:
                self.metrics.errors.labels("Bus", "dead_letter_failed").inc()
            return False
        return True

    def _max_payload(self) -> int:
        return int(self.nc.max_payload or 1_048_576)

    async def consume_linked(self, durable: str, handler: EventHandler, stop: asyncio.Event,
                             subject: str = "linked.>", batch: int = 50) -> None:
        """Runs until `stop` is set; then finishes the batch in hand (drain) and returns."""
        durable = durable_in_namespace(durable, self.namespace)
        subject = in_namespace(subject, self.namespace)
        config = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.NEW, ack_wait=ACK_WAIT_S,
                                max_deliver=MAX_DELIVER, filter_subject=subject)
        sub = await self._subscribe(durable, subject, config, stop)
        if sub is None:
            return
        while not stop.is_set():
            try:
                messages = await sub.fetch(batch, timeout=0.5)
            except (NatsTimeoutError, asyncio.TimeoutError):
                continue
            except (NatsError, OSError) as exc:  # connection lost or closed: the client reconnects
                self._count_outage(durable, exc)
                await _pause(stop, FETCH_ERROR_BACKOFF_S)
                continue
            for msg in messages:
                await self._handle(durable, msg, handler)

    async def _subscribe(self, durable: str, subject: str, config: ConsumerConfig,
                         stop: asyncio.Event) -> JetStreamContext.PullSubscription | None:
        """The pull subscription, retried while NATS is unreachable; None if stopped first."""
        while not stop.is_set():
            try:
                return await self.js.pull_subscribe(subject, durable=durable, stream=self.stream, config=config)
            except (NatsTimeoutError, asyncio.TimeoutError, OSError) as exc:
                self._count_outage(durable, exc)
            except NatsError as exc:
                if isinstance(exc, BadRequestError):
                    raise  # a consumer config the server refuses: a start-up error
                self._count_outage(durable, exc)
            await _pause(stop, FETCH_ERROR_BACKOFF_S)
        return None

    def _count_outage(self, durable: str, exc: BaseException) -> None:
        log("Bus", "nats-unavailable", f"{durable}: {type(exc).__name__}: {exc}", level="warn")
        if self.metrics:
            self.metrics.errors.labels("Bus", type(exc).__name__).inc()

    async def _handle(self, durable: str, msg: Msg, handler: EventHandler) -> None:
        try:
            event = LinkedEvent.parse(msg.data, self.max_message_bytes)
        except EventError as exc:
            await self.dead_letter("linked", msg.data, f"{durable}: {exc}")
            await self._settle(durable, msg, ack=True)
            return
        try:
            await handler(event)
        except Exception as exc:  # the handler failed: count, log, redeliver later
            log("Bus", "handler-error", f"{durable}: {type(exc).__name__}: {exc}", level="error",
                tenantId=event.tenantId, syncId=event.syncId)
            if self.metrics:
                self.metrics.errors.labels(durable, type(exc).__name__).inc()
            await self._settle(durable, msg, ack=False)
            return
        await self._settle(durable, msg, ack=True)

    async def _settle(self, durable: str, msg: Msg, *, ack: bool) -> None:
        """Ack (or nak for redelivery); a lost connection only means JetStream redelivers
        after ack_wait, so it is logged, not raised."""
        try:
            if ack:
                await msg.ack()
            else:
                await msg.nak(delay=1.0)
        except (NatsError, OSError, asyncio.TimeoutError) as exc:
            self._count_outage(durable, exc)


def truncated_record(payload: bytes, reason: str) -> bytes:
    """What is dead-lettered for a message too large to store whole: size, reason and the
    first DEAD_LETTER_HEAD_BYTES bytes (base64)."""
    return json.dumps({"truncated": True, "size": len(payload), "reason": reason[:500],
                       "head_base64": base64.b64encode(payload[:DEAD_LETTER_HEAD_BYTES]).decode()}).encode()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def _log_client_error(exc: Exception) -> None:
    log("Bus", "nats-client-error", f"{type(exc).__name__}: {exc}", level="warn")
