"""Data context loader (phase 3): one tenant's whole snapshot in a fixed number of bulk
queries, however large the tenant.

Two statements, both scoped to the tenant and its data source:
1. `unified/context_entities`: every live entity of every type;
2. `unified/context_memberships`: member_of and assigned_role as entity id pairs, mapped to
   external ids here with the entities of query 1 (so a deleted end drops the membership).
The in-memory maps (identity -> groups, role -> members, admins ...) are built by
`TenantSnapshot.from_rows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msp_pipeline.db import Db
from msp_pipeline.faults import FIRST_GROUP, TestFault
from msp_pipeline.model import ENTITY_TYPES, TenantSnapshot

CONTEXT_QUERIES = 2  # statements issued by one load, whatever the tenant's size

EntityKey = tuple[str, str]  # (entity_type, external_id)


@dataclass(frozen=True)
class TenantContext:
    """The snapshot the rules read, plus the database id of every loaded entity (the alert
    manager keys alerts by entity id)."""

    snapshot: TenantSnapshot
    entity_ids: Mapping[EntityKey, int]
    rows_read: int


def drop_fault_group(entities: list[tuple[Any, ...]], memberships: list[tuple[Any, ...]],
                     fault: TestFault | None) -> list[tuple[Any, ...]]:
    """TEST-ONLY (PIPELINE_TEST_FAULT=unified-drop-group-members): the memberships minus
    those of one group, as a loader bug would lose them."""
    group = fault.unified_group if fault else None
    if group is None:
        return memberships
    group_ids = {int(entity_id): ext for entity_id, entity_type, ext, _, _ in entities if entity_type == "groups"}
    with_members = sorted({group_ids[int(parent)] for rel, parent, _ in memberships
                           if rel == "member_of" and int(parent) in group_ids})
    dropped = (with_members[0] if with_members else None) if group == FIRST_GROUP else group
    return [m for m in memberships if not (m[0] == "member_of" and group_ids.get(int(m[1])) == dropped)]


async def load_tenant_context(db: Db, tenant_id: str, data_source_id: str,
                              fault: TestFault | None = None) -> TenantContext:
    scope: dict[str, Any] = {"tenant_id": tenant_id, "data_source_id": data_source_id}
    entities = await db.fetch("unified/context_entities", {**scope, "entity_types": list(ENTITY_TYPES)})
    memberships = drop_fault_group(entities, await db.fetch("unified/context_memberships", scope), fault)
    external_id = {int(entity_id): ext for entity_id, _, ext, _, _ in entities}
    snapshot = TenantSnapshot.from_rows(
        tenant_id,
        ((entity_type, ext, data, tags) for _, entity_type, ext, data, tags in entities),
        ((rel_type, external_id[parent], external_id[child]) for rel_type, parent, child in memberships
         if parent in external_id and child in external_id),
    )
    entity_ids = {(entity_type, ext): int(entity_id) for entity_id, entity_type, ext, _, _ in entities}
    return TenantContext(snapshot, entity_ids, len(entities) + len(memberships))


async def load_context(db: Db, tenant_id: str, data_source_id: str) -> TenantSnapshot:
    """The tenant snapshot in `CONTEXT_QUERIES` statements."""
    return (await load_tenant_context(db, tenant_id, data_source_id)).snapshot
