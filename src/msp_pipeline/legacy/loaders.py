"""How each legacy analyzer loads its own data: per-entity queries (the N+1 patterns of
docs/pipeline.md), every analyzer reloading the same identities. This is where the legacy cost is;
the rules they feed are the shared ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msp_pipeline.db import Db
from msp_pipeline.faults import LEGACY_FAULT_PAGE_SIZE, TestFault
from msp_pipeline.model import TenantSnapshot

Scope = dict[str, str]


@dataclass
class Loaded:
    snapshot: TenantSnapshot
    entity_ids: dict[tuple[str, str], int]  # (entity_type, external_id) -> entities.id


def _entities(rows: list[tuple[Any, ...]], entity_type: str, ids: dict[tuple[str, str], int],
              with_tags: bool = False) -> list[tuple[str, str, Any, Any]]:
    out = []
    for row in rows:
        ids[(entity_type, row[1])] = row[0]
        out.append((entity_type, row[1], row[2], row[3] if with_tags else ()))
    return out


def skip_fault_page(rows: list[tuple[Any, ...]], fault: TestFault | None) -> list[tuple[Any, ...]]:
    """TEST-ONLY (PIPELINE_TEST_FAULT=legacy-skip-page): the rows minus one page, as a
    paging bug would lose them."""
    page = fault.legacy_skipped_page if fault else None
    if page is None:
        return rows
    start = (page - 1) * LEGACY_FAULT_PAGE_SIZE
    return rows[:start] + rows[start + LEGACY_FAULT_PAGE_SIZE:]


async def load_mfa(db: Db, scope: Scope, fault: TestFault | None = None) -> Loaded:
    """3 + one query per group and per role."""
    ids: dict[tuple[str, str], int] = {}
    identities = skip_fault_page(await db.fetch("legacy/analyzers/identities", scope), fault)
    entities = _entities(identities, "identities", ids, True)
    entities += _entities(await db.fetch("legacy/analyzers/policies", scope), "policies", ids)
    memberships = []
    for parent_id, entity_type, external_id, name in await db.fetch("legacy/analyzers/groups_and_roles", scope):
        entities.append((entity_type, external_id, {"name": name}, ()))
        relationship = "member_of" if entity_type == "groups" else "assigned_role"
        for (child,) in await db.fetch("legacy/analyzers/members_of", {**scope, "parent_id": parent_id}):
            memberships.append((relationship, external_id, child))
    return Loaded(TenantSnapshot.from_rows(scope["tenant_id"], entities, memberships), ids)


async def load_policy(db: Db, scope: Scope, fault: TestFault | None = None) -> Loaded:
    """2 + per identity one membership query + per membership one get (N+1 in the loop)."""
    ids: dict[tuple[str, str], int] = {}
    identities = await db.fetch("legacy/analyzers/identities", scope)
    entities = _entities(identities, "identities", ids, True)
    entities += _entities(await db.fetch("legacy/analyzers/policies", scope), "policies", ids)
    memberships = []
    seen: set[tuple[str, str]] = set()
    for identity_id, external_id, _data, _tags in identities:
        for parent_id, relationship in await db.fetch("legacy/analyzers/memberships_of_identity",
                                                      {**scope, "identity_id": identity_id}):
            for entity_type, parent_ext, data in await db.fetch("legacy/analyzers/entity_by_id",
                                                                {**scope, "id": parent_id}):
                memberships.append((relationship, parent_ext, external_id))
                if (entity_type, parent_ext) not in seen:
                    seen.add((entity_type, parent_ext))
                    entities.append((entity_type, parent_ext, data, ()))
    return Loaded(TenantSnapshot.from_rows(scope["tenant_id"], entities, memberships), ids)


async def load_license(db: Db, scope: Scope, fault: TestFault | None = None) -> Loaded:
    """licenses + identities + per license its holders and a recount."""
    ids: dict[tuple[str, str], int] = {}
    licenses = await db.fetch("legacy/analyzers/licenses", scope)
    entities = _entities(licenses, "licenses", ids)
    for license_id, _ext, _data in licenses:
        await db.fetch("legacy/analyzers/license_holders", {**scope, "license_id": license_id})
        await db.fetch("legacy/analyzers/license_assigned_count", {**scope, "license_id": license_id})
    entities += _entities(await db.fetch("legacy/analyzers/identities", scope), "identities", ids, True)
    return Loaded(TenantSnapshot.from_rows(scope["tenant_id"], entities, []), ids)


async def load_stale(db: Db, scope: Scope, fault: TestFault | None = None) -> Loaded:
    """One query: identities with an admin flag."""
    ids: dict[tuple[str, str], int] = {}
    rows = await db.fetch("legacy/analyzers/stale_candidates", scope)
    entities = _entities([r[:4] for r in rows], "identities", ids, True)
    admins = [("assigned_role", "admin-role", r[1]) for r in rows if r[4]]
    entities.append(("roles", "admin-role", {"name": "Administrator (any admin role)"}, ()))
    return Loaded(TenantSnapshot.from_rows(scope["tenant_id"], entities, admins), ids)


# Each loader takes the test-only fault; only the MFA loader has one (legacy-skip-page).
LOADERS = {"mfa": load_mfa, "policy": load_policy, "license": load_license, "stale": load_stale}
