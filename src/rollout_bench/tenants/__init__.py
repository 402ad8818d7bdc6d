"""Synthetic tenants (Faker, seeded) with planted problems and known findings."""

from .describe import describe
from .generator import SyntheticTenant, default_as_of, generate_tenant, tenant_id_for
from .loader import LoadReport, generate_tenants, load_tenants, write_tenants
from .mutations import MUTATION_KINDS, apply_mutation
from .profiles import PERSONAS, Profile, load_profile, profile_names

__all__ = [
    "LoadReport", "MUTATION_KINDS", "PERSONAS", "Profile", "SyntheticTenant", "apply_mutation",
    "default_as_of", "describe", "generate_tenant", "generate_tenants", "load_profile", "load_tenants",
    "profile_names", "tenant_id_for", "write_tenants",
]
