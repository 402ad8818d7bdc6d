"""The linked.* parser under fuzzing: any input gives an event or an EventError naming the
problem, never another exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from msp_pipeline.contract.events import EventError, LinkedEvent
from msp_pipeline.contract.jobs import JobError, SyncJobData

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
                    max_leaves=20)
VALID = LinkedEvent.new(tenant_id="t", data_source_id="d", entity_type="identities", sync_id="s", changed=["a"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        LinkedEvent.parse(data)
    except EventError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(json.loads(VALID.to_json()))), JSON, max_size=10))
def test_valid_keys_with_arbitrary_values(raw: dict) -> None:
    try:
        event = LinkedEvent.parse(json.dumps(raw).encode())
    except EventError as exc:
        assert str(exc)
    else:
        assert event.entityType in ("identities", "groups", "roles", "policies", "licenses")


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_job_payloads(raw: object) -> None:
    try:
        SyncJobData.from_dict(raw)
    except JobError as exc:
        assert str(exc)


def test_valid_event_round_trips() -> None:
    assert LinkedEvent.parse(VALID.to_json()) == VALID


def test_huge_changed_ids_is_refused() -> None:
    raw = json.loads(VALID.to_json())
    raw["changedEntityIds"] = ["x"] * 100_001
    try:
        LinkedEvent.parse(json.dumps(raw).encode())
    except EventError as exc:
        assert "100001" in str(exc) or "100 001" in str(exc) or "at most" in str(exc)
    else:
        raise AssertionError("a huge changedEntityIds must be refused")
