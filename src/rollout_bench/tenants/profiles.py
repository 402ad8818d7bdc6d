"""Tenant profiles: small TOML files in fixtures/profiles/ that set a tenant's shape and
the share of each planted problem (persona)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from rollout_bench.errors import UserError
from rollout_bench.paths import fixtures_dir

PERSONAS = (
    "admin", "admin_no_mfa", "no_mfa", "partial_mfa", "uncovered", "excluded_by_group",
    "report_only", "disabled_licensed", "disabled_unlicensed", "stale_licensed",
    "stale_never_signed_in", "stale_admin",
)
ADMIN_PERSONAS = frozenset({"admin", "admin_no_mfa", "stale_admin"})


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    identities: int
    groups: int
    memberships: int
    licenses: int
    overused_licenses: int
    guest_share: float
    security_defaults_share: float
    personas: dict[str, float]

    def persona_counts(self) -> dict[str, int]:
        return {p: round(self.personas.get(p, 0.0) * self.identities) for p in PERSONAS}


def profile_names() -> list[str]:
    return sorted(p.stem for p in (fixtures_dir() / "profiles").glob("*.toml"))


def load_profile(name: str) -> Profile:
    path = fixtures_dir() / "profiles" / f"{name}.toml"
    if not path.is_file():
        raise UserError(f"tenant profile {name!r} not found; allowed: {', '.join(profile_names())}")
    raw = tomllib.loads(path.read_text())
    personas = raw.get("personas", {})
    unknown = sorted(set(personas) - set(PERSONAS))
    if unknown:
        raise UserError(f"{path}: persona {unknown[0]!r} is unknown; allowed: {', '.join(PERSONAS)}")
    try:
        profile = Profile(
            name, str(raw.get("description", "")), int(raw["identities"]), int(raw["groups"]),
            int(raw["memberships"]), int(raw["licenses"]), int(raw.get("overused_licenses", 0)),
            float(raw.get("guest_share", 0.0)), float(raw.get("security_defaults_share", 0.0)),
            {k: float(v) for k, v in personas.items()},
        )
    except KeyError as exc:
        raise UserError(f"{path}: field {exc.args[0]!r} is missing") from None
    planted = sum(profile.persona_counts().values())
    if planted > profile.identities:
        raise UserError(f"{path}: persona shares plant {planted} identities, more than {profile.identities}")
    if profile.groups < 4 or profile.licenses < 2:
        raise UserError(f"{path}: needs at least 4 groups and 2 licenses")
    return profile
