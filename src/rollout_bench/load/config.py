"""The run's configuration, handed to Locust (master and workers) as a JSON file named by
LOADTEST_CONFIG, so the same scenario runs with --processes or on several machines."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

CONFIG_ENV = "LOADTEST_CONFIG"
ARRIVALS = ("uniform", "poisson")  # the arrival processes loadtests.shapes offers


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    data_source_id: str


@dataclass(frozen=True)
class LoadConfig:
    redis_url: str
    database_url: str
    nats_url: str
    bullmq_prefix: str
    flags: dict[str, str]
    tenants: list[Tenant]
    mutable_tenants: list[str]
    shape: str
    out_dir: str
    seed: int = 1
    mutations_per_s: float = 0.5
    extra: dict[str, str] = field(default_factory=dict)
    # per mutable tenant: the identities a mutation may change (tenants.mutation_candidates)
    mutation_candidates: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    rate_syncs_per_s: float | None = None  # the hold rate of production-based shapes
    nats_namespace: str = ""  # the run's own stream and subjects (the pipeline's NATS_NAMESPACE)
    arrivals: str = "uniform"  # one of ARRIVALS: "poisson" = seeded exponential gaps
    duration_s: float | None = None  # overrides the shape's duration (capacity steps)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: str | None = None) -> LoadConfig:
        source = path or os.environ.get(CONFIG_ENV)
        if not source:
            raise RuntimeError(f"{CONFIG_ENV} is not set: run the load through `python -m rollout_bench loadtest`")
        raw = json.loads(Path(source).read_text())
        raw["tenants"] = [Tenant(**t) for t in raw["tenants"]]
        return cls(**raw)
