"""The production model (`ops/production.toml`) and the arrival rate it implies.

A sync here is one tenant's arrival: a job per entity type. With every type on the same
cadence, production brings `tenants / (rate_minutes * 60)` syncs per second; with mixed
cadences the job rate is the sum over types and the sync rate follows the fastest type.
Profiles state their load as a multiple of this rate (`standard` = 10x), so "validates 10x
the current scale" is a figure, not a slogan."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.errors import UserError
from rollout_bench.paths import project_root


@dataclass(frozen=True)
class ProductionModel:
    tenants: int
    tenant_mix: dict[str, float]
    rate_minutes: dict[str, int]
    pagination_share: float

    @property
    def jobs_per_s(self) -> float:
        return self.tenants * sum(1 / (minutes * 60) for minutes in self.rate_minutes.values())

    @property
    def syncs_per_s(self) -> float:
        return self.tenants / (min(self.rate_minutes.values()) * 60)

    def tenant_counts(self, scale: float = 1.0) -> list[tuple[str, int]]:
        """(profile, count) for `scale` x the tenant count, each size at least once."""
        total = max(1, round(self.tenants * scale))
        return [(name, max(1, round(total * share))) for name, share in self.tenant_mix.items()]

    def to_dict(self) -> dict[str, Any]:
        return {"tenants": self.tenants, "tenant_mix": self.tenant_mix, "rate_minutes": self.rate_minutes,
                "pagination_share": self.pagination_share, "syncs_per_s": round(self.syncs_per_s, 5),
                "jobs_per_s": round(self.jobs_per_s, 5)}


def production_file() -> Path:
    return project_root() / "ops" / "production.toml"


def load_production(path: Path | None = None) -> ProductionModel:
    source = path or production_file()
    try:
        raw = tomllib.loads(source.read_text())
    except FileNotFoundError:
        raise UserError(f"production model {source} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: not valid TOML: {exc}") from None
    allowed = {"tenants", "pagination_share", "tenant_mix", "rate_minutes"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise UserError(f"{source.name}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    tenants = raw.get("tenants")
    if not isinstance(tenants, int) or isinstance(tenants, bool) or tenants < 1:
        raise UserError(f"{source.name}: tenants = {tenants!r} is not allowed; use a whole number >= 1")
    mix = raw.get("tenant_mix", {})
    if not mix or any(not isinstance(v, (int, float)) or v <= 0 for v in mix.values()) \
            or abs(sum(mix.values()) - 1) > 0.01:
        raise UserError(f"{source.name}: tenant_mix {mix!r} must give each profile a share > 0, summing to 1")
    rates = raw.get("rate_minutes", {})
    bad = sorted(set(rates) - set(ENTITY_TYPES)) or sorted(set(ENTITY_TYPES) - set(rates))
    if bad:
        raise UserError(f"{source.name}: rate_minutes must name exactly {', '.join(ENTITY_TYPES)}; {bad[0]!r} is off")
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in rates.values()):
        raise UserError(f"{source.name}: rate_minutes {rates!r} must be whole minutes >= 1")
    share = raw.get("pagination_share", 0.0)
    if not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise UserError(f"{source.name}: pagination_share = {share!r} is not allowed; use 0 to 1")
    return ProductionModel(tenants, {str(k): float(v) for k, v in mix.items()}, dict(rates), float(share))
