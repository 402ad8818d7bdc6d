"""The findings each planted persona must produce (docs/pipeline.md, "The four rules"), written
from the generator's plan: this is the ground truth the rules are judged against."""

from __future__ import annotations

from dataclasses import dataclass

from msp_pipeline.model import Finding

STALE_DAYS = 90


@dataclass(frozen=True)
class PlannedIdentity:
    external_id: str
    name: str
    email: str
    persona: str
    admin: bool
    enabled: bool
    guest: bool
    licenses: tuple[str, ...]
    days_since_login: int | None  # None = never signed in
    mfa_excluded: bool = False  # excluded from "Require MFA for all users" by a mutation

    @property
    def stale(self) -> bool:
        return self.days_since_login is None or self.days_since_login >= STALE_DAYS


@dataclass(frozen=True)
class PlannedLicense:
    sku: str
    name: str
    total_units: int
    consumed_units: int


def _identity_findings(p: PlannedIdentity, security_defaults: bool) -> list[tuple[str, str, str]]:
    """(alert_type, severity, subject) planned for one identity."""
    out: list[tuple[str, str, str]] = []
    if not p.enabled:
        return [("license_waste", "medium", sku) for sku in p.licenses]
    if security_defaults:
        if not p.admin:
            out.append(("mfa_partial_enforced", "medium", ""))
    elif p.persona in ("no_mfa", "admin_no_mfa", "report_only"):
        out.append(("mfa_not_enforced", "critical" if p.admin else "high", ""))
    elif p.persona == "partial_mfa":
        out.append(("mfa_partial_enforced", "high" if p.admin else "medium", ""))
    elif p.persona in ("uncovered", "excluded_by_group"):
        out.append(("mfa_not_enforced", "critical" if p.admin else "high", ""))
        out.append(("policy_gap", "high" if p.admin else "medium", ""))
    elif p.mfa_excluded:  # a healthy member taken out of the all-users MFA policy: no other MFA policy
        out.append(("mfa_not_enforced", "critical" if p.admin else "high", ""))
    if p.stale:
        severity = "high" if p.admin else ("low" if not p.licenses else "medium")
        out.append(("stale_user", severity, ""))
        out += [("license_waste", "low", sku) for sku in p.licenses]
    return out


def expected_findings(people: list[PlannedIdentity], licenses: list[PlannedLicense],
                      security_defaults: bool) -> list[Finding]:
    findings = [Finding("identities", p.external_id, alert_type, severity, subject)
                for p in people for alert_type, severity, subject in _identity_findings(p, security_defaults)]
    findings += [Finding("licenses", lic.sku, "license_overuse", "high")
                 for lic in licenses if 0 < lic.total_units < lic.consumed_units]
    return sorted(findings)
