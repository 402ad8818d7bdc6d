"""Load profiles of `make loadtest PROFILE=...`: which tenants to load, which load shape
to run, which pipeline settings the profile shortens (reported in every result), and how
long to wait for the pipeline to drain after the load stops."""

from __future__ import annotations

from dataclasses import dataclass, field

from rollout_bench.errors import UserError


@dataclass(frozen=True)
class LoadProfile:
    name: str
    tenant_mix: tuple[tuple[str, int], ...]  # (tenant profile, count)
    shape: str  # a load shape in loadtests/shapes.py
    shortened_settings: dict[str, str] = field(default_factory=dict)
    drain_timeout_s: float = 120.0
    mutated_share: float = 0.25  # share of tenants the mutation user may change
    description: str = ""


LOAD_PROFILES: dict[str, LoadProfile] = {
    p.name: p
    for p in (
        LoadProfile(
            "tiny", (("small", 4), ("worked-example", 1)), "tiny",
            {"LEGACY_POLL_INTERVAL_S": "1", "LEGACY_DEBOUNCE_S": "1", "UNIFIED_SETTLE_S": "2"},
            drain_timeout_s=60.0,
            description="the test suite's end-to-end run: 20 s at 2 syncs/s",
        ),
        LoadProfile(
            "smoke", (("small", 10), ("worked-example", 2)), "smoke",
            {"LEGACY_POLL_INTERVAL_S": "2", "LEGACY_DEBOUNCE_S": "3", "UNIFIED_SETTLE_S": "3"},
            drain_timeout_s=90.0,
            description="CI gate: a short run, legacy poll and debounce shortened so legacy work finishes",
        ),
        LoadProfile(
            "standard", (("small", 60), ("medium", 5), ("worked-example", 3), ("10x", 1)), "standard",
            {"LEGACY_DEBOUNCE_S": "30"},
            drain_timeout_s=420.0,
            description="pre-rollout run: production poll interval (60 s), debounce shortened to 30 s",
        ),
        LoadProfile(
            "soak", (("small", 60), ("medium", 5), ("worked-example", 3), ("10x", 1)), "soak", {},
            drain_timeout_s=720.0,
            description="long run at production settings (60 s poll, 300 s debounce)",
        ),
        LoadProfile(
            "spike", (("small", 60), ("medium", 5), ("worked-example", 3), ("10x", 1)), "spike",
            {"LEGACY_POLL_INTERVAL_S": "10", "LEGACY_DEBOUNCE_S": "30"},
            drain_timeout_s=420.0,
            description="a burst well above the standard rate",
        ),
    )
}


def load_profile_named(name: str) -> LoadProfile:
    if name not in LOAD_PROFILES:
        raise UserError(f"PROFILE={name!r} is not a load profile; allowed: {', '.join(LOAD_PROFILES)}")
    return LOAD_PROFILES[name]
