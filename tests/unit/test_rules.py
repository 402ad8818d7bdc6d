"""The four rules on small hand-built snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from msp_pipeline.model import Identity, License, Policy, TenantSnapshot
from msp_pipeline.rules import Quirks, all_findings, entity_state

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def user(ext: str, *, enabled: bool = True, licenses: tuple[str, ...] = (), days: int = 1, tags=frozenset()) -> Identity:
    return Identity(ext, ext, f"{ext}@x.test", "member", enabled, licenses, NOW - timedelta(days=days), tags)


def policy(ext: str, *, status: str = "enabled", include_users=("All",), exclude_users=(), include_groups=(),
           exclude_groups=(), apps=("All",), controls=("mfa",)) -> Policy:
    return Policy(ext, ext, status, frozenset(include_users), frozenset(exclude_users), frozenset(include_groups),
                  frozenset(exclude_groups), frozenset(apps), frozenset(controls))


def snapshot(users, policies, *, licenses=(), security_defaults=False, groups=None, roles=None) -> TenantSnapshot:
    return TenantSnapshot(
        "t1", {u.external_id: u for u in users}, {p.external_id: p for p in policies},
        {lic.external_id: lic for lic in licenses}, security_defaults,
        group_names={g: g for g in (groups or {})}, role_names={r: r for r in (roles or {})},
        group_members={g: frozenset(m) for g, m in (groups or {}).items()},
        role_members={r: frozenset(m) for r, m in (roles or {}).items()},
    )


def keys(findings):
    return sorted(f.key for f in findings)


def test_covered_user_has_no_findings():
    assert all_findings(snapshot([user("a")], [policy("p")]), NOW) == []


def test_excluded_admin_is_critical_and_has_policy_gap():
    snap = snapshot([user("a")], [policy("p", exclude_users=("a",))],
                    roles={"Global Administrator": ["a"]})
    assert keys(all_findings(snap, NOW)) == [("a", "mfa_not_enforced", "critical"), ("a", "policy_gap", "high")]


def test_partial_application_scope():
    snap = snapshot([user("a")], [policy("p", apps=("office365",))])
    assert keys(all_findings(snap, NOW)) == [("a", "mfa_partial_enforced", "medium")]


def test_security_defaults_partial_unless_admin():
    snap = snapshot([user("a"), user("b")], [], security_defaults=True, roles={"User Administrator": ["b"]})
    assert keys(all_findings(snap, NOW)) == [("a", "mfa_partial_enforced", "medium")]


def test_report_only_policy_counts_only_with_quirk():
    snap = snapshot([user("a")], [policy("p", status="report-only"), policy("block", controls=("block",))])
    assert keys(all_findings(snap, NOW)) == [("a", "mfa_not_enforced", "high")]
    assert all_findings(snap, NOW, Quirks(mfa_ignores_policy_state=True)) == []


def test_exclude_groups_honoured_unless_quirk():
    snap = snapshot([user("a")], [policy("p", exclude_groups=("g",))], groups={"g": ["a"]})
    assert keys(all_findings(snap, NOW)) == [("a", "mfa_not_enforced", "high"), ("a", "policy_gap", "medium")]
    assert all_findings(snap, NOW, Quirks(ignore_exclude_groups=True)) == []


def test_disabled_user_with_licenses_wastes_each_sku():
    snap = snapshot([user("a", enabled=False, licenses=("E3", "E5"))], [policy("p")])
    assert [(f.key, f.subject) for f in all_findings(snap, NOW)] == [
        (("a", "license_waste", "medium"), "E3"), (("a", "license_waste", "medium"), "E5")]


def test_stale_user_and_license_waste_by_tag_quirk():
    snap = snapshot([user("a", licenses=("E3",), days=120)], [policy("p")])
    assert keys(all_findings(snap, NOW)) == [("a", "license_waste", "low"), ("a", "stale_user", "medium")]
    # legacy reads the "Stale" tag written by the stale analyzer's last run: none yet
    assert keys(all_findings(snap, NOW, Quirks(license_waste_reads_stale_tag=True))) == [("a", "stale_user", "medium")]


def test_stale_severity_admin_and_unlicensed():
    snap = snapshot([user("adm", days=90), user("nolic", days=400)], [policy("p")],
                    roles={"Helpdesk Administrator": ["adm"]})
    assert keys(all_findings(snap, NOW)) == [("adm", "stale_user", "high"), ("nolic", "stale_user", "low")]


def test_license_overuse_ignores_zero_total():
    snap = snapshot([], [], licenses=[License("E3", "E3", 10, 11), License("FREE", "FREE", 0, 50)],
                    security_defaults=True)
    assert keys(all_findings(snap, NOW)) == [("E3", "license_overuse", "high")]


def test_entity_state():
    assert entity_state([]) == "normal"
    assert entity_state(["low"]) == "low"
    assert entity_state(["low", "medium"]) == "warn"
    assert entity_state(["high"]) == "critical"
