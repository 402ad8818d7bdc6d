"""Event payloads on NATS (docs/pipeline.md, "Event flow"), with strict parsing.

A payload that fails `LinkedEvent.parse` goes to a dead letter with the reason; it never
crashes a consumer.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from msp_pipeline.model import ENTITY_TYPES

MAX_CHANGED_IDS = 100_000
MAX_MESSAGE_BYTES = 262_144  # default of the MAX_MESSAGE_BYTES setting (256 KiB)
PUBLISH_TIMEOUT_S = 2.0  # a publisher waits this long for the stream's ack, then retries


class EventError(ValueError):
    """A payload that is not a valid event; the message names the field and the problem."""


@dataclass(frozen=True)
class SyncMetadata:
    syncId: str
    batchNumber: int
    isFinalBatch: bool


@dataclass(frozen=True)
class LinkedEvent:
    tenantId: str
    dataSourceId: str
    integrationId: str
    entityType: str
    syncId: str
    eventId: str
    changedEntityIds: list[str]
    syncMetadata: SyncMetadata
    createdAt: str  # ISO 8601, UTC, on the publisher's clock
    traceId: str = ""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.createdAt.replace("Z", "+00:00"))

    @classmethod
    def new(cls, *, tenant_id: str, data_source_id: str, entity_type: str, sync_id: str,
            changed: list[str], batch_number: int = 0, is_final: bool = True,
            integration_id: str = "microsoft-365", trace_id: str = "") -> LinkedEvent:
        return cls(tenant_id, data_source_id, integration_id, entity_type, sync_id,
                   uuid.uuid4().hex, list(changed), SyncMetadata(sync_id, batch_number, is_final),
                   datetime.now(timezone.utc).isoformat(), trace_id)

    @classmethod
    def parse(cls, data: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> LinkedEvent:
        raw = decode_json(data, max_bytes, EventError)
        if not isinstance(raw, dict):
            raise EventError(f"payload is a JSON {type(raw).__name__}, expected an object")
        text = {k: _field(raw, k, str) for k in
                ("tenantId", "dataSourceId", "integrationId", "entityType", "syncId", "eventId", "createdAt")}
        if text["entityType"] not in ENTITY_TYPES:
            raise EventError(f"entityType {text['entityType']!r} is not one of {list(ENTITY_TYPES)}")
        for key in ("tenantId", "dataSourceId", "syncId"):
            if not text[key]:
                raise EventError(f"{key} is empty")
        try:
            datetime.fromisoformat(text["createdAt"].replace("Z", "+00:00"))
        except ValueError:
            raise EventError(f"createdAt {text['createdAt']!r} is not an ISO 8601 time") from None
        changed = _field(raw, "changedEntityIds", list)
        if len(changed) > MAX_CHANGED_IDS:
            raise EventError(f"changedEntityIds has {len(changed)} ids, at most {MAX_CHANGED_IDS} allowed")
        if not all(isinstance(x, str) for x in changed):
            raise EventError("changedEntityIds must hold strings only")
        meta = _field(raw, "syncMetadata", dict)
        batch = meta.get("batchNumber")
        final = meta.get("isFinalBatch")
        if not isinstance(batch, int) or isinstance(batch, bool) or not isinstance(final, bool):
            raise EventError("syncMetadata needs batchNumber (int) and isFinalBatch (bool)")
        trace = raw.get("traceId", "")
        return cls(**text, changedEntityIds=changed,
                   syncMetadata=SyncMetadata(str(meta.get("syncId", text["syncId"])), batch, final),
                   traceId=trace if isinstance(trace, str) else "")


def decode_json(data: bytes | str, max_bytes: int, error: type[ValueError]) -> Any:
    """json.loads with every way it can fail raised as `error`: a payload over `max_bytes`
    is refused before parsing; bad UTF-8, bad JSON and nesting too deep for the parser
    (RecursionError) name what was wrong."""
    size = len(data)
    if size > max_bytes:
        raise error(f"payload is {size} bytes, at most {max_bytes} allowed (MAX_MESSAGE_BYTES)")
    try:
        return json.loads(data)
    except RecursionError:
        raise error("payload is not JSON this parser can read: nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"payload is not JSON: {exc}") from None
    except (ValueError, TypeError) as exc:  # e.g. an integer literal longer than Python's digit limit
        raise error(f"payload is not JSON this parser can read: {exc}") from None


def _field(raw: dict[str, Any], key: str, kind: type) -> Any:
    if key not in raw:
        raise EventError(f"field {key!r} is missing")
    value = raw[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise EventError(f"field {key!r} is {type(value).__name__}, expected {kind.__name__}")
    return value


def trace_id(sync_id: str, stage: str, at: datetime | None = None) -> str:
    """Phase 2 trace id: {syncId}_{stage}_{timestamp ms}."""
    moment = at or datetime.now(timezone.utc)
    return f"{sync_id}_{stage}_{int(moment.timestamp() * 1000)}"


@dataclass(frozen=True)
class AnalysisEvent:
    """analysis.unified (one per sync) or analysis.{type}.{entity} (legacy)."""

    tenantId: str
    dataSourceId: str
    syncId: str
    traceId: str
    path: str
    analyzer: str
    findingsByType: dict[str, int] = field(default_factory=dict)
    queries: int = 0
    createdAt: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()
