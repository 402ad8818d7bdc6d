"""Poison input at the parsers: nesting too deep for json (RecursionError), payloads over
the size limit (refused before parsing), integers over Python's digit limit, and BullMQ job
hashes whose fields are not JSON all give the parser's own error, never another exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msp_pipeline.contract.events import MAX_MESSAGE_BYTES, EventError, LinkedEvent
from msp_pipeline.contract.settings import ConfigError, Settings
from msp_pipeline.unified.guarded_worker import bad_job_fields

NESTED = b"[" * 200_000
URLS = {"DATABASE_URL": "postgresql://x", "REDIS_URL": "redis://x", "NATS_URL": "nats://x"}


def test_deep_nesting_is_an_event_error() -> None:
    with pytest.raises(EventError, match="nested too deeply"):
        LinkedEvent.parse(NESTED, max_bytes=len(NESTED))


def test_oversized_payload_refused_before_parsing() -> None:
    payload = b" " * (MAX_MESSAGE_BYTES + 1)
    with pytest.raises(EventError, match=f"{MAX_MESSAGE_BYTES + 1} bytes, at most {MAX_MESSAGE_BYTES}"):
        LinkedEvent.parse(payload)


def test_integer_over_digit_limit_is_an_event_error() -> None:
    with pytest.raises(EventError, match="not JSON"):
        LinkedEvent.parse(b"1" * 5_000)


def test_size_limit_is_a_setting() -> None:
    assert Settings.from_env(URLS).max_message_bytes == 262_144
    assert Settings.from_env({**URLS, "MAX_MESSAGE_BYTES": "4096"}).max_message_bytes == 4096
    with pytest.raises(ConfigError, match="MAX_MESSAGE_BYTES='12'"):
        Settings.from_env({**URLS, "MAX_MESSAGE_BYTES": "12"})


def test_job_hash_with_bad_data_is_neutralised_with_reason() -> None:
    cleaned, reason = bad_job_fields({"data": "{not json", "opts": '{"attempts":3}', "name": "sync"}, 1024)
    assert reason is not None and reason.startswith("invalid job data: payload is not JSON")
    assert cleaned["data"] == "null" and cleaned["opts"] == '{"attempts":3}'
    _, reason = bad_job_fields({"data": "[" * 5_000}, 10_000)
    assert reason == "invalid job data: payload is not JSON this parser can read: nested too deeply"
    _, reason = bad_job_fields({"data": json.dumps({"a": "x" * 2_000})}, 1_024)
    assert reason is not None and "at most 1024 allowed" in reason
    cleaned, reason = bad_job_fields({"data": "{}", "opts": "[1]"}, 1_024)
    assert reason is not None and reason.startswith("invalid job opts") and json.loads(cleaned["opts"]) == {"attempts": 1}


def test_good_job_hash_untouched() -> None:
    raw = {"data": '{"tenantId":"t"}', "opts": '{"attempts":3}', "progress": "0", "stacktrace": "[]"}
    assert bad_job_fields(raw, 1_024) == (raw, None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_any_job_data_gives_clean_hash_or_reason(data: str) -> None:
    cleaned, reason = bad_job_fields({"data": data}, 1_024)
    json.loads(cleaned["data"]) if cleaned["data"] else None  # whatever came in, what goes on parses
    assert (reason is None) == (cleaned["data"] == data)
