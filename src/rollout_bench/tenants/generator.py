"""Synthetic Microsoft 365 tenants with planted problems whose findings are known.

Each identity gets one persona (a planted problem, or healthy); the conditional access
policies are built so that each persona yields exactly its planned findings. The expected
findings come from the plan (`expected.py`), never from running the rules, so they can
judge the rules. Same (profile, seed, index, as_of), same tenant, byte for byte.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from faker import Faker

from msp_pipeline.model import SECURITY_DEFAULTS_ID, Finding, format_time
from rollout_bench.tenants.expected import (
    PlannedIdentity,
    PlannedLicense,
    expected_findings,
)
from rollout_bench.tenants.profiles import ADMIN_PERSONAS, Profile

ADMIN_ROLES = ("Global Administrator", "User Administrator", "Helpdesk Administrator")
OTHER_ROLES = ("Reports Reader", "Message Center Reader")
SKUS = ("SPE_E3", "SPE_E5", "EMS", "POWER_BI_PRO", "VISIOCLIENT", "PROJECTPREMIUM", "TEAMS_EXPLORATORY",
        "EXCHANGESTANDARD", "O365_BUSINESS_PREMIUM", "WIN_DEF_ATP", "AAD_PREMIUM_P2", "INTUNE_A",
        "DYN365_ENTERPRISE", "FLOW_FREE", "POWERAPPS_VIRAL", "STREAM", "MCOEV", "MCOMEETADV",
        "ATP_ENTERPRISE", "RIGHTSMANAGEMENT")
# Personas that no MFA-for-all policy may cover (listed in excludeUsers).
MFA_POLICY_GROUPS = frozenset({"IT Admins"})  # groups an MFA policy includes ("Require MFA for administrators")
MFA_EXCLUDED = frozenset({"admin_no_mfa", "no_mfa", "partial_mfa", "uncovered", "report_only"})


def default_as_of() -> datetime:
    return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def tenant_id_for(profile: str, seed: int, index: int) -> str:
    return f"t-{profile}-{seed}-{index:04d}"


@dataclass
class SyntheticTenant:
    tenant_id: str
    name: str
    data_source_id: str
    security_defaults: bool
    payloads: dict[str, list[dict[str, Any]]]
    expected_findings: list[Finding]
    persona_counts: dict[str, int] = field(default_factory=dict)
    identities: list[PlannedIdentity] = field(default_factory=list)
    licenses: list[PlannedLicense] = field(default_factory=list)

    def mutation_candidates(self) -> dict[str, list[str]]:
        """Identities whose planned findings a mutation changes in a way the plan models:
        healthy enabled members (disable, MFA exclusion) and stale users (a sign-in)."""
        mfa_groups = {m for g in self.payloads.get("groups", []) if g["displayName"] in MFA_POLICY_GROUPS
                      for m in g["members"]}  # covered by another MFA policy: an exclusion changes nothing
        healthy = sorted(p.external_id for p in self.identities
                         if p.persona == "healthy" and not p.admin and not p.guest and p.enabled
                         and p.external_id not in mfa_groups)
        stale = sorted(p.external_id for p in self.identities if p.enabled and p.stale)
        return {"healthy": healthy, "stale": stale}

    def shape(self) -> dict[str, int]:
        counts = {etype: len(rows) for etype, rows in self.payloads.items()}
        counts["memberships"] = sum(len(g["members"]) for g in self.payloads["groups"])
        return counts


class _Builder:
    def __init__(self, profile: Profile, seed: int, index: int, as_of: datetime) -> None:
        self.profile = profile
        self.as_of = as_of
        self.rng = random.Random(f"{profile.name}/{seed}/{index}")
        self.fake = Faker()
        self.fake.seed_instance(self.rng.getrandbits(32))
        self.tenant_id = tenant_id_for(profile.name, seed, index)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def identities(self, domain: str) -> list[PlannedIdentity]:
        personas = [p for p, n in self.profile.persona_counts().items() for _ in range(n)]
        personas += ["healthy"] * (self.profile.identities - len(personas))
        self.rng.shuffle(personas)
        skus = SKUS[: self.profile.licenses - 1]  # the last SKU is the free one (total 0)
        # Faker is slow per call (~0.2 ms); draw name pools once and combine them.
        pool = max(10, min(200, self.profile.identities // 4))
        first_names = [self.fake.first_name() for _ in range(pool)]
        last_names = [self.fake.last_name() for _ in range(pool)]
        planned: list[PlannedIdentity] = []
        for persona in personas:
            licensed = persona in ("disabled_licensed", "stale_licensed", "stale_admin") or (
                persona not in ("disabled_unlicensed", "stale_never_signed_in") and self.rng.random() < 0.7)
            licenses = tuple(sorted(self.rng.sample(skus, self.rng.choice((1, 1, 2))))) if licensed else ()
            if persona.startswith("stale"):
                days = None if persona == "stale_never_signed_in" else self.rng.randint(120, 400)
            else:
                days = self.rng.randint(0, 60)
            guest = persona == "healthy" and self.rng.random() < self.profile.guest_share
            first, last = self.rng.choice(first_names), self.rng.choice(last_names)
            user_name = f"{first}.{last}{len(planned)}".lower().replace(" ", "").replace("'", "")
            planned.append(PlannedIdentity(
                self.new_id(), f"{first} {last}", f"{user_name}@{domain}", persona,
                admin=persona in ADMIN_PERSONAS, enabled=not persona.startswith("disabled"),
                guest=guest, licenses=licenses, days_since_login=days))
        return planned

    def identity_payload(self, who: PlannedIdentity) -> dict[str, Any]:
        last = None if who.days_since_login is None else format_time(
            self.as_of - timedelta(days=who.days_since_login, seconds=self.rng.randint(0, 86_399)))
        return {"id": who.external_id, "displayName": who.name, "userPrincipalName": who.email,
                "userType": "Guest" if who.guest else "Member", "accountEnabled": who.enabled,
                "assignedLicenses": [{"skuId": sku} for sku in who.licenses],
                "signInActivity": {"lastSignInDateTime": last}}

    def groups(self, people: list[PlannedIdentity]) -> tuple[list[dict[str, Any]], str, str, str]:
        names = ["Emergency access", "All staff", "IT Admins", "Compliant devices"]
        names += [f"{self.fake.word().title()} team {i}" for i in range(self.profile.groups - len(names))]
        groups = [{"id": self.new_id(), "displayName": n, "members": []} for n in names]
        emergency, it_admins = groups[0], groups[2]
        emergency["members"] = [p.external_id for p in people if p.persona == "excluded_by_group"]
        it_admins["members"] = [p.external_id for p in people if p.admin]
        pairs = {(g["id"], m) for g in groups for m in g["members"]}
        budget = self.profile.memberships - len(pairs)
        candidates = [p.external_id for p in people if p.persona != "excluded_by_group"]
        others = groups[1:]
        while budget > 0 and candidates:
            group, member = self.rng.choice(others), self.rng.choice(candidates)
            if (group["id"], member) not in pairs:
                pairs.add((group["id"], member))
                group["members"].append(member)
                budget -= 1
        for g in groups:
            g["members"].sort()
        return groups, emergency["id"], it_admins["id"], groups[3]["id"]

    def roles(self, people: list[PlannedIdentity]) -> list[dict[str, Any]]:
        roles = [{"id": self.new_id(), "displayName": n, "members": []} for n in ADMIN_ROLES + OTHER_ROLES]
        for p in people:
            if p.admin:
                roles[self.rng.randrange(len(ADMIN_ROLES))]["members"].append(p.external_id)
            elif p.persona == "healthy" and self.rng.random() < 0.05:
                roles[len(ADMIN_ROLES) + self.rng.randrange(len(OTHER_ROLES))]["members"].append(p.external_id)
        for r in roles:
            r["members"].sort()
        return roles

    def policies(self, people: list[PlannedIdentity], emergency: str, it_admins: str,
                 devices: str, security_defaults: bool) -> list[dict[str, Any]]:
        def ids(*personas: str) -> list[str]:
            return sorted(p.external_id for p in people if p.persona in personas)

        excluded, uncovered = sorted(ids(*MFA_EXCLUDED)), ids("uncovered")

        def policy(name: str, state: str, include_users: list[str], controls: list[str], *,
                   exclude_users: list[str] = (), include_groups: list[str] = (),  # type: ignore[assignment]
                   apps: list[str] = ("All",)) -> dict[str, Any]:  # type: ignore[assignment]
            return {"id": self.new_id(), "displayName": name, "state": state,
                    "conditions": {"users": {"includeUsers": list(include_users), "excludeUsers": list(exclude_users),
                                             "includeGroups": list(include_groups), "excludeGroups": [emergency]},
                                   "applications": {"includeApplications": list(apps)}},
                    "grantControls": {"builtInControls": list(controls)}}

        return [
            policy("Require MFA for all users", "enabled", ["All"], ["mfa"], exclude_users=excluded),
            policy("Require MFA for administrators", "enabled", [], ["mfa"], exclude_users=excluded,
                   include_groups=[it_admins]),
            policy("MFA for Office 365", "enabled", ids("partial_mfa"), ["mfa"], apps=["Office365"]),
            policy("Block legacy authentication", "enabled", ["All"], ["block"], exclude_users=uncovered),
            policy("MFA pilot (report-only)", "enabledForReportingButNotEnforced", ids("report_only"), ["mfa"]),
            policy("Old MFA policy", "disabled", ids("no_mfa"), ["mfa"]),
            policy("Require compliant device", "enabled", [], ["compliantDevice"], exclude_users=uncovered,
                   include_groups=[devices]),
            policy("Guest terms of use", "enabled", ["GuestsOrExternalUsers"], ["mfa"]),
            policy("Sign-in frequency", "disabled", ["All"], []),
            {"id": SECURITY_DEFAULTS_ID, "displayName": "Security defaults", "isEnabled": security_defaults},
        ]

    def licenses(self, people: list[PlannedIdentity]) -> list[PlannedLicense]:
        holders: dict[str, int] = {sku: 0 for sku in SKUS[: self.profile.licenses]}
        for p in people:
            for sku in p.licenses:
                holders[sku] += 1
        paid = list(holders)[:-1]
        overusable = [sku for sku in paid if holders[sku] >= 2]
        overused = set(self.rng.sample(overusable, min(self.profile.overused_licenses, len(overusable))))
        planned = []
        for sku, count in holders.items():
            if sku == list(holders)[-1]:
                total = 0  # a free SKU: total 0 is never overuse
            elif sku in overused:
                total = self.rng.randint(1, count - 1)
            else:
                total = count + self.rng.randint(0, 10)
            planned.append(PlannedLicense(sku, sku.replace("_", " ").title(), total, count))
        return planned


def generate_tenant(profile: Profile, seed: int, index: int, as_of: datetime | None = None) -> SyntheticTenant:
    as_of = as_of or default_as_of()
    b = _Builder(profile, seed, index, as_of)
    company = b.fake.company()
    domain = f"{b.tenant_id}.onmicrosoft.test"
    security_defaults = b.rng.random() < profile.security_defaults_share
    people = b.identities(domain)
    groups, emergency, it_admins, devices = b.groups(people)
    roles = b.roles(people)
    policies = b.policies(people, emergency, it_admins, devices, security_defaults)
    licenses = b.licenses(people)
    payloads = {
        "identities": [b.identity_payload(p) for p in people],
        "groups": groups,
        "roles": roles,
        "policies": policies,
        "licenses": [{"id": lic.sku, "skuId": lic.sku, "skuPartNumber": lic.name,
                      "prepaidUnits": {"enabled": lic.total_units}, "consumedUnits": lic.consumed_units}
                     for lic in licenses],
    }
    counts: dict[str, int] = {}
    for p in people:
        counts[p.persona] = counts.get(p.persona, 0) + 1
    return SyntheticTenant(b.tenant_id, company, f"ds-{b.tenant_id}", security_defaults, payloads,
                           expected_findings(people, licenses, security_defaults), dict(sorted(counts.items())),
                           people, licenses)
