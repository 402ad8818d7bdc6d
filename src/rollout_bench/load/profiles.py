"""Load profiles of `make loadtest PROFILE=...`: which tenants to load, which load shape
to run, which pipeline settings the profile shortens (reported in every result), and how
long to wait for the pipeline to drain after the load stops."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from rollout_bench.errors import UserError
from rollout_bench.load.production import ProductionModel, load_production

PRODUCTION_TENANTS = ()  # tenant_mix placeholder: the production model's mix


@dataclass(frozen=True)
class LoadProfile:
    name: str
    tenant_mix: tuple[tuple[str, int], ...]  # (tenant profile, count)
    shape: str  # a load shape in loadtests/shapes.py
    shortened_settings: dict[str, str] = field(default_factory=dict)
    drain_timeout_s: float = 120.0
    mutated_share: float = 0.25  # share of tenants the mutation user may change
    description: str = ""
    production_multiple: float | None = None  # the hold rate as a multiple of ops/production.toml's
    rate_syncs_per_s: float | None = None  # resolved from the multiple (None: the shape's own rate)
    runs: int = 1  # default `--runs`: the head runs the release comparison needs (see ops/gates.toml)
    benchmarks: bool = False  # run the pytest-benchmark suites after the load (stored as bench.json)
    headroom_gate: bool = False  # search the week's capacity first and judge headroom >= 10x production

    def rate_line(self, production: ProductionModel, shape_rate: float | None = None) -> str:
        """'0.556 syncs/s, 2.78 jobs/s = 10x production (200 tenants hourly)'."""
        rate = self.rate_syncs_per_s or shape_rate
        if rate is None:
            return "rate set by the shape"
        per_sync = production.jobs_per_s / production.syncs_per_s
        multiple = rate / production.syncs_per_s
        return (f"{rate:.3g} syncs/s, {rate * per_sync:.3g} jobs/s = {multiple:.3g}x production "
                f"({production.tenants} tenants, every {min(production.rate_minutes.values())} min)")


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
            "smoke", (("small", 30), ("worked-example", 6)), "smoke",
            {"LEGACY_POLL_INTERVAL_S": "2", "LEGACY_DEBOUNCE_S": "3", "UNIFIED_SETTLE_S": "3"},
            drain_timeout_s=90.0, runs=10,
            description="CI gate: 10 runs of 90 s over 36 tenants, enough new-path jobs to decide a p99 in weeks 4-7; legacy "
                        "poll and debounce shortened so legacy work finishes",
        ),
        LoadProfile(
            "standard", PRODUCTION_TENANTS, "standard", {"LEGACY_DEBOUNCE_S": "30"},
            drain_timeout_s=420.0, production_multiple=10.0, benchmarks=True, headroom_gate=True,
            description="pre-rollout run: the week's capacity search (headroom >= 10x production), then 10x "
                        "production for 10 minutes, production poll interval (60 s), debounce shortened to 30 s; "
                        "then the pytest-benchmark suites",
        ),
        LoadProfile(
            "soak", PRODUCTION_TENANTS, "soak", {}, drain_timeout_s=720.0, production_multiple=2.0,
            description="an hour at 2x production, production settings (60 s poll, 300 s debounce)",
        ),
        LoadProfile(
            "spike", PRODUCTION_TENANTS, "spike", {"LEGACY_POLL_INTERVAL_S": "10", "LEGACY_DEBOUNCE_S": "30"},
            drain_timeout_s=420.0, production_multiple=2.0,
            description="2x production with a 30 s burst at 30x production",
        ),
    )
}


def load_profile_named(name: str, production: ProductionModel | None = None) -> LoadProfile:
    """The profile, with a production-based rate and tenant mix resolved from the model."""
    if name not in LOAD_PROFILES:
        raise UserError(f"PROFILE={name!r} is not a load profile; allowed: {', '.join(LOAD_PROFILES)}")
    profile = LOAD_PROFILES[name]
    if profile.production_multiple is None:
        return profile
    model = production or load_production()
    return dataclasses.replace(profile, tenant_mix=tuple(model.tenant_counts()),
                               rate_syncs_per_s=profile.production_multiple * model.syncs_per_s)
