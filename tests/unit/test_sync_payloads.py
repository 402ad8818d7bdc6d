"""The processor's payload check: a valid payload gives its normalized data and edges;
anything else (fuzzed) is a PayloadError — never another exception that would fail the
whole page instead of dead-lettering one entity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msp_pipeline.model import ENTITY_TYPES, PayloadError, normalize, relationships_of
from msp_pipeline.sync.processor import validate
from rollout_bench.tenants import generate_tenant, load_profile

AS_OF = datetime(2026, 11, 28, tzinfo=UTC)
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10)
_keys = st.sampled_from(["displayName", "userPrincipalName", "accountEnabled", "assignedLicenses", "members",
                         "signInActivity", "state", "conditions", "skuId", "skuPartNumber", "prepaidUnits",
                         "consumedUnits", "grantControls", "isEnabled", "id"])


def test_generated_payloads_are_valid() -> None:
    tenant = generate_tenant(load_profile("small"), 1, 0, AS_OF)
    for entity_type, payloads in tenant.payloads.items():
        for payload in payloads:
            data, edges = validate(entity_type, payload["id"], payload)
            assert data == normalize(entity_type, payload)
            assert edges == relationships_of(entity_type, payload["id"], payload)


@settings(max_examples=300, deadline=None)
@given(entity_type=st.sampled_from(ENTITY_TYPES),
       payload=_json | st.dictionaries(_keys, _json, max_size=8))
def test_any_payload_is_valid_or_a_payload_error(entity_type: str, payload: Any) -> None:
    try:
        validate(entity_type, "x-1", payload)
    except PayloadError:
        pass


@pytest.mark.parametrize(("entity_type", "payload", "reason"), [
    ("groups", {"displayName": "g", "members": 5}, "relationships cannot be read"),
    ("groups", {"displayName": "g", "members": [7]}, "not a non-empty string"),
    ("identities", ["a list"], "expected an object"),
    ("identities", {"displayName": "a", "userPrincipalName": "a@x", "accountEnabled": True,
                    "assignedLicenses": [], "signInActivity": {"lastSignInDateTime": "yesterday"}}, "cannot normalize"),
    ("licenses", {"skuId": "S", "skuPartNumber": "S", "prepaidUnits": {}, "consumedUnits": "3"}, "consumedUnits"),
])
def test_bad_payloads_name_the_problem(entity_type: str, payload: Any, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        validate(entity_type, "x-1", payload)
