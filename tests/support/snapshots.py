"""A TenantSnapshot straight from a generated tenant's payloads (no database)."""

from __future__ import annotations

from msp_pipeline.model import TenantSnapshot, normalize, relationships_of
from rollout_bench.tenants import SyntheticTenant


def snapshot_of(tenant: SyntheticTenant) -> TenantSnapshot:
    entities = [(etype, p["id"], normalize(etype, p), ()) for etype, rows in tenant.payloads.items() for p in rows]
    memberships = [(rtype, parent, child) for etype, rows in tenant.payloads.items() for p in rows
                   for _pt, parent, _ct, child, rtype in relationships_of(etype, p["id"], p)]
    return TenantSnapshot.from_rows(tenant.tenant_id, entities, memberships)
