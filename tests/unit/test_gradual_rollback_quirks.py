"""Every alert difference on a tenant moved to legacy is attributed to a known quirk by name:
the MFA resolve bug for a fixed MFA alert kept active, the rule quirks for what the legacy
rules raise or miss, and `unknown` for anything else."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from msp_pipeline.model import Finding, Identity, Policy, TenantSnapshot
from msp_pipeline.rules import Quirks, all_findings
from rollout_bench.drills.quirk_attribution import MFA_RESOLVE_BUG, UNKNOWN, attribute, by_quirk

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _snapshot() -> TenantSnapshot:
    recent = NOW - timedelta(days=3)
    users = {u: Identity(u, u, f"{u}@x.test", "Member", True, (), recent, frozenset()) for u in ("ann", "bob", "cid")}
    everyone = Policy("p1", "Require MFA for all users", "enabled", frozenset({"All"}), frozenset({"cid"}),
                      frozenset(), frozenset({"g-out"}), frozenset({"All"}), frozenset({"mfa"}))
    report_only = Policy("p2", "MFA pilot", "enabledForReportingButNotEnforced", frozenset({"cid"}), frozenset(),
                         frozenset(), frozenset(), frozenset({"All"}), frozenset({"mfa"}))
    return TenantSnapshot("t1", users, {"p1": everyone, "p2": report_only}, {}, False,
                          group_names={"g-out": "excluded"}, group_members={"g-out": frozenset({"bob"})})


def test_correct_rules_give_no_difference() -> None:
    snapshot = _snapshot()
    truth = all_findings(snapshot, NOW, Quirks())
    assert attribute("t1", truth, truth, snapshot, NOW) == []


def test_rule_quirks_and_the_mfa_resolve_bug_are_named() -> None:
    snapshot = _snapshot()
    truth = all_findings(snapshot, NOW, Quirks())
    legacy = all_findings(snapshot, NOW, Quirks.legacy())
    stuck = Finding("identities", "ann", "mfa_not_enforced", "high")  # fixed, but legacy never resolved it
    differences = attribute("t1", truth, [*legacy, stuck], snapshot, NOW)
    named = {(d.alert[0], d.alert[1], d.kind): d.quirks for d in differences}
    assert named[("ann", "mfa_not_enforced", "extra")] == (MFA_RESOLVE_BUG,)
    assert named[("cid", "mfa_not_enforced", "missing")] == ("mfa_ignores_policy_state",)
    assert ("bob", "mfa_not_enforced", "missing") in named  # excluded by group: legacy does not honour it
    assert "ignore_exclude_groups" in named[("bob", "mfa_not_enforced", "missing")] or \
        "ignore_exclude_groups" in named.get(("bob", "policy_gap", "missing"), ())
    assert UNKNOWN not in by_quirk(differences)
    assert next(iter(by_quirk(differences))) == MFA_RESOLVE_BUG


def test_a_difference_no_quirk_explains_is_unknown() -> None:
    snapshot = _snapshot()
    truth = all_findings(snapshot, NOW, Quirks())
    invented = Finding("identities", "ann", "stale_user", "low")
    dropped = truth[0]
    differences = attribute("t1", truth[1:], [*truth[1:], invented], snapshot, NOW)
    assert [(d.kind, d.quirks) for d in differences] == [("extra", (UNKNOWN,))]
    assert attribute("t1", truth, truth[1:], snapshot, NOW)[0].alert[0] == dropped.entity_external_id
