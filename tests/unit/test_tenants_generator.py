"""The generator: deterministic, the worked example's exact shape, and planted findings
that the rules find exactly (the plan judges the rules, and the rules the plan)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from msp_pipeline.rules import Quirks, all_findings
from rollout_bench.errors import UserError
from rollout_bench.tenants import describe, generate_tenant, load_profile
from tests.support.snapshots import snapshot_of

AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)


def keyed(findings) -> Counter:
    return Counter((f.entity_type, f.key, f.subject) for f in findings)


def test_same_seed_same_tenant_byte_for_byte() -> None:
    profile = load_profile("small")
    first, second = (generate_tenant(profile, 7, 3, AS_OF) for _ in range(2))
    assert json.dumps(first.payloads, sort_keys=True) == json.dumps(second.payloads, sort_keys=True)
    assert first.expected_findings == second.expected_findings
    other = generate_tenant(profile, 8, 3, AS_OF)
    assert json.dumps(other.payloads, sort_keys=True) != json.dumps(first.payloads, sort_keys=True)


def test_worked_example_has_exactly_the_plans_shape() -> None:
    tenant = generate_tenant(load_profile("worked-example"), 1, 0, AS_OF)
    shape = tenant.shape()
    assert (shape["identities"], shape["policies"], shape["groups"], shape["memberships"], shape["licenses"]) == (
        150, 10, 50, 300, 20)


@pytest.mark.parametrize("profile_name", ["worked-example", "small", "medium", "10x"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_findings_are_what_the_rules_find(profile_name: str, seed: int) -> None:
    tenant = generate_tenant(load_profile(profile_name), seed, seed, AS_OF)
    assert keyed(all_findings(snapshot_of(tenant), AS_OF, Quirks())) == keyed(tenant.expected_findings)


def test_security_defaults_tenants_are_planted_too() -> None:
    profile = load_profile("small")
    tenants = [generate_tenant(profile, 5, i, AS_OF) for i in range(30)]
    with_defaults = [t for t in tenants if t.security_defaults]
    assert with_defaults, "small profile plants security defaults on some tenants"
    for tenant in with_defaults:
        assert keyed(all_findings(snapshot_of(tenant), AS_OF)) == keyed(tenant.expected_findings)
        assert not any(f.alert_type == "policy_gap" for f in tenant.expected_findings)


def test_every_problem_is_planted_in_the_worked_example() -> None:
    by_type = describe("worked-example", seed=1)["expected_findings_by_type"]
    assert set(by_type) == {"mfa_not_enforced", "mfa_partial_enforced", "policy_gap", "license_waste",
                            "license_overuse", "stale_user"}


def test_legacy_quirks_give_different_findings() -> None:
    tenant = generate_tenant(load_profile("worked-example"), 1, 0, AS_OF)
    snapshot = snapshot_of(tenant)
    correct, legacy = keyed(all_findings(snapshot, AS_OF)), keyed(all_findings(snapshot, AS_OF, Quirks.legacy()))
    missing_in_legacy = {key[1][1] for key in correct - legacy}
    assert {"policy_gap", "mfa_not_enforced"} <= missing_in_legacy


def test_unknown_profile_names_the_allowed_ones() -> None:
    with pytest.raises(UserError, match="allowed: .*worked-example"):
        load_profile("huge")
