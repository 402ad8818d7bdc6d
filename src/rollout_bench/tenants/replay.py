"""What a tenant's findings must be after mutations: the plan with each mutation applied
in order (a user disabled or enabled, a sign-in, an MFA exclusion added or removed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from msp_pipeline.model import Finding
from rollout_bench.tenants.expected import PlannedIdentity, expected_findings
from rollout_bench.tenants.generator import SyntheticTenant


def _apply(person: PlannedIdentity, kind: str) -> PlannedIdentity:
    if kind == "disable_user":
        return dataclasses.replace(person, enabled=False)
    if kind == "enable_user":
        return dataclasses.replace(person, enabled=True)
    if kind == "sign_in":
        return dataclasses.replace(person, days_since_login=0)
    if kind == "policy_exclude_user":
        return dataclasses.replace(person, mfa_excluded=True)
    if kind == "policy_include_user":
        return dataclasses.replace(person, mfa_excluded=False)
    raise ValueError(f"mutation {kind!r} is not known to the plan")


def expected_after(tenant: SyntheticTenant, mutations: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """The tenant's findings once every mutation of it (dicts with tenant_id, kind, user) has
    been synced."""
    people = {p.external_id: p for p in tenant.identities}
    for mutation in mutations:
        user = mutation.get("user")
        if mutation.get("tenant_id") != tenant.tenant_id or not user:
            continue
        if user not in people:
            raise ValueError(f"mutation of {user!r} names no identity of tenant {tenant.tenant_id}")
        people[user] = _apply(people[user], str(mutation["kind"]))
    return expected_findings(list(people.values()), tenant.licenses, tenant.security_defaults)
