"""Comparison mode: multisets in both directions, ignored quirks counted apart."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from msp_pipeline.comparison import compare_analysis, compare_findings
from msp_pipeline.model import Finding
from msp_pipeline.rules import Quirks
from rollout_bench.tenants import generate_tenant, load_profile
from tests.support.snapshots import snapshot_of

AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)


def f(entity: str, alert: str, severity: str = "high") -> Finding:
    return Finding("identities", entity, alert, severity)


def test_differences_are_found_in_both_directions() -> None:
    diff = compare_findings([f("a", "mfa_not_enforced"), f("b", "stale_user", "low")],
                            [f("a", "mfa_not_enforced"), f("c", "policy_gap", "medium")])
    assert diff.matched == 1
    assert set(diff.only_unified) == {("b", "stale_user", "low")}
    assert set(diff.only_legacy) == {("c", "policy_gap", "medium")}, "the refactor plan only walked the unified side"
    assert diff.by_type["policy_gap"] == {"unified": 0, "legacy": 1}


def test_multiplicity_counts() -> None:
    diff = compare_findings([f("a", "license_waste")] * 2, [f("a", "license_waste")])
    assert sum(diff.only_unified.values()) == 1


def test_planted_difference_is_a_mismatch_and_a_declared_quirk_is_ignored() -> None:
    snapshot = snapshot_of(generate_tenant(load_profile("worked-example"), 1, 0, AS_OF))
    nothing_ignored = compare_analysis(snapshot, AS_OF, Quirks(policy_gap_never_raised=True), [])
    assert nothing_ignored.mismatched > 0 and nothing_ignored.ignored == 0
    assert "policy_gap" in nothing_ignored.mismatched_types
    declared = compare_analysis(snapshot, AS_OF, Quirks(policy_gap_never_raised=True), ["policy_gap_never_raised"])
    assert (declared.mismatched, declared.ignored) == (0, nothing_ignored.mismatched)
    both = compare_analysis(snapshot, AS_OF, Quirks(policy_gap_never_raised=True, ignore_exclude_groups=True),
                            ["policy_gap_never_raised"])
    assert both.mismatched > 0 and both.ignored > 0


def test_unknown_ignore_rule_is_refused() -> None:
    snapshot = snapshot_of(generate_tenant(load_profile("small"), 1, 0, AS_OF))
    with pytest.raises(ValueError, match="not a quirk"):
        compare_analysis(snapshot, AS_OF, Quirks.legacy(), ["policy_gap_allowed"])
