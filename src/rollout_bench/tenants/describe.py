"""`tenants describe`: a profile's shape and its planted findings, as JSON-ready data."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rollout_bench.tenants.generator import generate_tenant
from rollout_bench.tenants.profiles import load_profile


def describe(profile_name: str, seed: int = 0) -> dict[str, Any]:
    profile = load_profile(profile_name)
    tenant = generate_tenant(profile, seed, 0)
    by_type = Counter(f.alert_type for f in tenant.expected_findings)
    by_severity = Counter(f"{f.alert_type}/{f.severity}" for f in tenant.expected_findings)
    return {
        "profile": profile_name,
        "description": profile.description,
        "seed": seed,
        "tenant_id": tenant.tenant_id,
        "security_defaults": tenant.security_defaults,
        "counts": tenant.shape(),
        "personas": tenant.persona_counts,
        "expected_findings": len(tenant.expected_findings),
        "expected_findings_by_type": dict(sorted(by_type.items())),
        "expected_findings_by_type_and_severity": dict(sorted(by_severity.items())),
    }
