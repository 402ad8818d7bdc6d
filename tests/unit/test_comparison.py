"""Comparison mode: multisets in both directions, ignored quirks counted apart."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from msp_pipeline.comparison import (
    ComparisonResult,
    compare_changes,
    compare_findings,
    compare_with_rules,
)
from msp_pipeline.contract.settings import ConfigError
from msp_pipeline.faults import parse_test_fault
from msp_pipeline.model import Finding, TenantSnapshot
from msp_pipeline.rules import Quirks, all_findings
from rollout_bench.tenants import generate_tenant, load_profile
from tests.support.snapshots import snapshot_of

AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)


def compare_analysis(snapshot: TenantSnapshot, now: datetime, legacy_quirks: Quirks,
                     ignored: list[str]) -> ComparisonResult:
    """Both sides on one snapshot: only the rules and the quirks differ."""
    return compare_with_rules(all_findings(snapshot, now), all_findings(snapshot, now, legacy_quirks), legacy_quirks,
                              ignored, lambda quirks: all_findings(snapshot, now, quirks))


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


def test_ignored_differences_are_counted_per_rule_and_mismatches_by_direction() -> None:
    snapshot = snapshot_of(generate_tenant(load_profile("worked-example"), 1, 0, AS_OF))
    quirks = Quirks(policy_gap_never_raised=True, ignore_exclude_groups=True)
    result = compare_analysis(snapshot, AS_OF, quirks, ["policy_gap_never_raised"])
    assert result.ignored_by_rule == {"policy_gap_never_raised": result.ignored}
    listed = sum(m["count"] for m in result.mismatches)
    assert listed == result.mismatched == sum(sum(sides.values()) for sides in result.mismatched_by_type.values())
    assert {m["side"] for m in result.mismatches} <= {"unified-only", "legacy-only"}


def test_alert_changes_known_follow_findings_or_mismatch() -> None:
    names = {1: "bob", 2: "erin", 3: "dave"}
    unified = [("resolved", 1, "mfa_not_enforced", ""), ("created", 2, "policy_gap", ""),
               ("updated", 3, "stale_user", "")]
    legacy = [("created", 3, "license_waste", "E5")]
    legacy_fixed = [("resolved", 1, "mfa_not_enforced", ""), ("created", 3, "license_waste", "E5")]
    out = compare_changes(unified, legacy, legacy_fixed, {("erin", "policy_gap")}, names)
    assert out["known"] == {"mfa_resolve_bug": 1}  # the MFA bug: legacy never resolves bob's fixed alert
    assert out["followsFindings"] == 1  # erin's policy_gap is a finding difference, counted there
    assert out["mismatched"] == 2 and {(m["entity"], m["side"]) for m in out["mismatches"]} == {
        ("dave", "unified-only"), ("dave", "legacy-only")}
    assert out["unified"] == {"created": 1, "updated": 1, "resolved": 1}


@pytest.mark.parametrize("raw", ["legacy-skip-page:0", "legacy-skip-page:two", "unified-drop-group-members",
                                 "unified-drop-group-members:", "drop-everything"])
def test_malformed_test_fault_is_refused_in_one_line(raw: str) -> None:
    with pytest.raises(ConfigError, match="PIPELINE_TEST_FAULT=.*test-only") as caught:
        parse_test_fault({"PIPELINE_TEST_FAULT": raw})
    assert "\n" not in str(caught.value) and raw in str(caught.value)


def test_test_faults_parse() -> None:
    assert parse_test_fault({}) is None
    skip = parse_test_fault({"PIPELINE_TEST_FAULT": "legacy-skip-page:3"})
    assert skip is not None and (skip.legacy_skipped_page, skip.unified_group) == (3, None)
    drop = parse_test_fault({"PIPELINE_TEST_FAULT": "unified-drop-group-members:first"})
    assert drop is not None and (drop.unified_group, drop.legacy_skipped_page) == ("first", None)


def test_unified_agreeing_with_a_quirk_it_should_not_have_is_a_mismatch() -> None:
    """A unified fault that happens to match a declared legacy quirk is not hidden by it."""
    bob_missing = [f("alice", "stale_user", "low")]
    legacy_quirky = [f("alice", "stale_user", "low")]  # the quirk hides bob's finding on the legacy side
    legacy_fixed = [f("alice", "stale_user", "low"), f("bob", "mfa_not_enforced")]
    result = compare_with_rules(bob_missing, legacy_quirky, Quirks(ignore_exclude_groups=True),
                                ["ignore_exclude_groups"], lambda quirks: legacy_fixed)
    assert (result.matched, result.mismatched, result.ignored) == (1, 1, 0)
    assert result.mismatches == [{"side": "legacy-only", "entity": "bob", "alertType": "mfa_not_enforced",
                                  "severity": "high", "count": 1}]


def test_unified_reproducing_the_mfa_bug_is_a_mismatch() -> None:
    """Unified not resolving a fixed MFA alert agrees with buggy legacy, not with legacy fixed."""
    legacy_fixed = [("resolved", 1, "mfa_not_enforced", "")]
    out = compare_changes([], [], legacy_fixed, set(), {1: "bob"})
    assert out["known"] == {} and out["mismatched"] == 1
    assert out["mismatches"][0]["entity"] == "bob" and out["mismatches"][0]["side"] == "legacy-only"
