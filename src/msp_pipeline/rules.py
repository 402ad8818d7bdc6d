"""The four rule sets (MFA, policy coverage, license, stale) as pure functions.

Both paths call these; they differ in how they load the snapshot, schedule work and
write alerts. Each known legacy quirk (docs/pipeline.md) is an explicit switch in `Quirks`, so
comparison mode has real differences to find and tests can turn them off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from msp_pipeline.model import Finding, Identity, Policy, TenantSnapshot

STALE_AFTER_DAYS = 90
STALE_TAG = "Stale"


@dataclass(frozen=True)
class Quirks:
    """Legacy behaviours. All off = the correct rules (the unified analyzer)."""

    mfa_ignores_policy_state: bool = False  # report-only / disabled MFA policies count
    ignore_exclude_groups: bool = False  # excludeGroups of a policy is not honoured
    policy_gap_never_raised: bool = False  # legacy never raised policy_gap in practice
    license_waste_reads_stale_tag: bool = False  # stale = "Stale" tag of the last stale run
    mfa_resolve_bug: bool = False  # alert manager: fixed MFA alerts are never resolved

    @classmethod
    def legacy(cls) -> Quirks:
        return cls(**{f.name: True for f in fields(cls)})

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def parse(cls, text: str) -> Quirks:
        """'all', 'none', or a comma list of quirk names."""
        text = text.strip()
        if text in ("", "none"):
            return cls()
        if text == "all":
            return cls.legacy()
        chosen = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in cls.names()]
        if unknown:
            raise ValueError(f"unknown quirk {unknown[0]!r}; allowed: all, none, {', '.join(cls.names())}")
        return cls(**{name: True for name in chosen})


def policy_applies(policy: Policy, user: Identity, groups: set[str], honour_exclude_groups: bool) -> bool:
    if user.external_id in policy.exclude_users:
        return False
    if honour_exclude_groups and groups & policy.exclude_groups:
        return False
    return "All" in policy.include_users or user.external_id in policy.include_users or bool(
        groups & policy.include_groups
    )


def _enabled_users(snapshot: TenantSnapshot) -> Iterable[Identity]:
    return (u for u in snapshot.identities.values() if u.enabled)


def days_since_login(user: Identity, now: datetime) -> int:
    return (now - user.last_login_at).days


def is_stale(user: Identity, now: datetime) -> bool:
    return user.enabled and days_since_login(user, now) >= STALE_AFTER_DAYS


def mfa_coverage(snapshot: TenantSnapshot, user: Identity, quirks: Quirks) -> str:
    """'full', 'partial' or 'none' for one enabled user."""
    admin = snapshot.is_admin(user.external_id)
    if snapshot.security_defaults:
        return "full" if admin else "partial"
    groups = snapshot.groups_of(user.external_id)
    coverage = "none"
    for policy in snapshot.policies.values():
        if "mfa" not in policy.built_in_controls:
            continue
        if policy.status != "enabled" and not quirks.mfa_ignores_policy_state:
            continue
        if not policy_applies(policy, user, groups, not quirks.ignore_exclude_groups):
            continue
        if "All" in policy.include_applications:
            return "full"
        coverage = "partial"
    return coverage


def mfa_findings(snapshot: TenantSnapshot, quirks: Quirks = Quirks()) -> list[Finding]:
    out: list[Finding] = []
    for user in _enabled_users(snapshot):
        admin = snapshot.is_admin(user.external_id)
        coverage = mfa_coverage(snapshot, user, quirks)
        if coverage == "none":
            out.append(Finding("identities", user.external_id, "mfa_not_enforced",
                               "critical" if admin else "high",
                               message=f"MFA is not enforced for {user.email}"))
        elif coverage == "partial":
            out.append(Finding("identities", user.external_id, "mfa_partial_enforced",
                               "high" if admin else "medium",
                               message=f"MFA covers only some applications for {user.email}"))
    return out


def policy_findings(snapshot: TenantSnapshot, quirks: Quirks = Quirks()) -> list[Finding]:
    if quirks.policy_gap_never_raised or snapshot.security_defaults:
        return []
    enabled = [p for p in snapshot.policies.values() if p.status == "enabled"]
    out: list[Finding] = []
    for user in _enabled_users(snapshot):
        groups = snapshot.groups_of(user.external_id)
        if any(policy_applies(p, user, groups, not quirks.ignore_exclude_groups) for p in enabled):
            continue
        admin = snapshot.is_admin(user.external_id)
        out.append(Finding("identities", user.external_id, "policy_gap", "high" if admin else "medium",
                           message=f"No enabled conditional access policy applies to {user.email}"))
    return out


def license_findings(snapshot: TenantSnapshot, now: datetime, quirks: Quirks = Quirks()) -> list[Finding]:
    out: list[Finding] = []
    for user in snapshot.identities.values():
        if not user.licenses:
            continue
        if not user.enabled:
            severity, why = "medium", "disabled"
        elif (STALE_TAG in user.tags) if quirks.license_waste_reads_stale_tag else is_stale(user, now):
            severity, why = "low", "stale"
        else:
            continue
        out += [Finding("identities", user.external_id, "license_waste", severity, subject=sku,
                        message=f"{why} user {user.email} holds license {sku}")
                for sku in sorted(set(user.licenses))]
    for lic in snapshot.licenses.values():
        if lic.total_units > 0 and lic.consumed_units > lic.total_units:
            out.append(Finding("licenses", lic.external_id, "license_overuse", "high",
                               message=f"{lic.name}: {lic.consumed_units} used of {lic.total_units}"))
    return out


def stale_findings(snapshot: TenantSnapshot, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for user in _enabled_users(snapshot):
        if not is_stale(user, now):
            continue
        if snapshot.is_admin(user.external_id):
            severity = "high"
        elif not user.licenses:
            severity = "low"
        else:
            severity = "medium"
        out.append(Finding("identities", user.external_id, "stale_user", severity,
                           message=f"{user.email} has not signed in for {days_since_login(user, now)} days"))
    return out


RULE_SETS = ("mfa", "policy", "license", "stale")


def run_rule_set(name: str, snapshot: TenantSnapshot, now: datetime, quirks: Quirks = Quirks()) -> list[Finding]:
    if name == "mfa":
        return mfa_findings(snapshot, quirks)
    if name == "policy":
        return policy_findings(snapshot, quirks)
    if name == "license":
        return license_findings(snapshot, now, quirks)
    if name == "stale":
        return stale_findings(snapshot, now)
    raise ValueError(f"rule set {name!r} is not one of {RULE_SETS}")


def all_findings(snapshot: TenantSnapshot, now: datetime, quirks: Quirks = Quirks()) -> list[Finding]:
    return sorted(f for name in RULE_SETS for f in run_rule_set(name, snapshot, now, quirks))


ALERT_TYPES_OF_RULE_SET = {
    "mfa": ("mfa_not_enforced", "mfa_partial_enforced"),
    "policy": ("policy_gap",),
    "license": ("license_waste", "license_overuse"),
    "stale": ("stale_user",),
}


def entity_state(active_severities: Iterable[str]) -> str:
    """Entity state from its active alerts' severities (docs/pipeline.md)."""
    seen = set(active_severities)
    if seen & {"critical", "high"}:
        return "critical"
    if "medium" in seen:
        return "warn"
    if "low" in seen:
        return "low"
    return "normal"
