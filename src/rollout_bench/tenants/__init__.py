"""Synthetic tenants (Faker, seeded) with planted problems and known findings."""

from rollout_bench.tenants.describe import describe
from rollout_bench.tenants.generator import (
    SyntheticTenant,
    default_as_of,
    generate_tenant,
    tenant_id_for,
)
from rollout_bench.tenants.loader import (
    LoadReport,
    generate_tenants,
    load_tenants,
    write_tenants,
)
from rollout_bench.tenants.mutations import MUTATION_KINDS, apply_mutation
from rollout_bench.tenants.profiles import (
    PERSONAS,
    Profile,
    load_profile,
    profile_names,
)

__all__ = [
    "LoadReport", "MUTATION_KINDS", "PERSONAS", "Profile", "SyntheticTenant", "apply_mutation",
    "default_as_of", "describe", "generate_tenant", "generate_tenants", "load_profile", "load_tenants",
    "profile_names", "tenant_id_for", "write_tenants",
]
