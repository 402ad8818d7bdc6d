"""Linker (phase 6): one bulk read of the relationships a page touches, set arithmetic in
memory, then deletes and inserts in batches of 100 — no per-relationship query.

Each relationship type is declared by the payload of one entity type (DECLARATIONS,
mirroring model.relationships_of). Syncing a page replaces the relationships its own
payloads declare, and adds those that other types' payloads in graph_source declare
towards the page's entities — so a relationship whose other end was synced first (group
members before the identities exist, licenses before their holders) is linked by the
later sync. An end that does not exist yet is left for its own sync to link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from msp_pipeline.db import Db
from msp_pipeline.log import log
from msp_pipeline.model import PayloadError
from msp_pipeline.sync.processor import Edge, declared_edges

INSERT_BATCH = 100
DbEdge = tuple[int, int, str]  # parent_entity_id, child_entity_id, relationship_type


@dataclass(frozen=True)
class Declaration:
    declared_by: str  # the entity type whose payload lists the relationship
    relationship: str
    declarer_end: Literal["parent", "child"]
    other_types: tuple[str, ...]  # types at the other end


DECLARATIONS: tuple[Declaration, ...] = (
    Declaration("groups", "member_of", "parent", ("identities",)),
    Declaration("roles", "assigned_role", "parent", ("identities",)),
    Declaration("policies", "applies_to", "parent", ("identities", "groups")),
    Declaration("identities", "has_license", "child", ("licenses",)),
)


def owned_relationships(entity_type: str) -> dict[str, str]:
    """relationship type -> the end ('parent' or 'child') where a page of this type declares it."""
    return {d.relationship: d.declarer_end for d in DECLARATIONS if d.declared_by == entity_type}


def inbound_declarers(entity_type: str) -> list[str]:
    """The entity types whose payloads may declare relationships towards this type."""
    return sorted({d.declared_by for d in DECLARATIONS if entity_type in d.other_types})


@dataclass(frozen=True)
class LinkPlan:
    stale: list[DbEdge]
    missing: list[DbEdge]


def plan(existing: set[DbEdge], wanted_owned: set[DbEdge], wanted_inbound: set[DbEdge],
         owned: Mapping[str, str], page_ids: set[int]) -> LinkPlan:
    """Pure set arithmetic: what to delete (relationships the page owns and no longer
    declares) and what to insert (anything wanted that does not exist yet)."""
    def is_owned(edge: DbEdge) -> bool:
        end = owned.get(edge[2])
        return end is not None and (edge[0] if end == "parent" else edge[1]) in page_ids

    stale = {edge for edge in existing if is_owned(edge)} - wanted_owned
    missing = (wanted_owned | wanted_inbound) - existing
    return LinkPlan(sorted(stale), sorted(missing))


@dataclass(frozen=True)
class LinkResult:
    inserted: int
    deleted: int


def _chunks(rows: Sequence[DbEdge], size: int) -> Iterable[Sequence[DbEdge]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _columns(rows: Sequence[DbEdge]) -> dict[str, list[Any]]:
    return {"parents": [r[0] for r in rows], "children": [r[1] for r in rows], "types": [r[2] for r in rows]}


async def _inbound(db: Db, entity_type: str, data_source_id: str, page_keys: set[tuple[str, str]]) -> list[Edge]:
    declarers = inbound_declarers(entity_type)
    if not declarers or not page_keys:
        return []
    rows = await db.fetch("sync/inbound_candidates", {
        "data_source_id": data_source_id, "declaring_types": declarers,
        "external_ids": sorted(ext for _, ext in page_keys)})
    edges: list[Edge] = []
    for declarer_type, external_id, payload in rows:
        try:
            declared = declared_edges(declarer_type, external_id, payload)
        except PayloadError as exc:  # its own sync dead-letters it; here it declares nothing
            log("Linker", "inbound", f"{declarer_type} {external_id} skipped: {exc}", level="warn",
                dataSourceId=data_source_id)
            continue
        edges += [e for e in declared if (e[0], e[1]) in page_keys or (e[2], e[3]) in page_keys]
    return edges


async def link(db: Db, *, tenant_id: str, data_source_id: str, sync_id: str, entity_type: str,
               declared: Mapping[str, list[Edge]], deleted_ids: Sequence[int]) -> LinkResult:
    """declared: external id of each valid, live page entity -> the edges its payload declares.
    deleted_ids: page entities marked deleted now; all their relationships go."""
    removed = 0
    if deleted_ids:
        removed += await db.execute("sync/delete_relationships_of", {"entity_ids": list(deleted_ids)})
    page_keys = {(entity_type, ext) for ext in declared}
    if not page_keys:
        return LinkResult(0, removed)
    owned_edges = [edge for edges in declared.values() for edge in edges]
    inbound_edges = await _inbound(db, entity_type, data_source_id, page_keys)
    keys = sorted(page_keys | {(e[0], e[1]) for e in owned_edges + inbound_edges}
                  | {(e[2], e[3]) for e in owned_edges + inbound_edges})
    rows = await db.fetch("sync/entity_ids", {"data_source_id": data_source_id,
                                              "types": [k[0] for k in keys], "external_ids": [k[1] for k in keys]})
    ids = {(etype, ext): entity_id for etype, ext, entity_id in rows}
    page_ids = {ids[key] for key in page_keys if key in ids}
    if not page_ids:
        return LinkResult(0, removed)

    def resolve(edges: list[Edge]) -> set[DbEdge]:
        return {(ids[(pt, pe)], ids[(ct, ce)], rel) for pt, pe, ct, ce, rel in edges
                if (pt, pe) in ids and (ct, ce) in ids}

    existing = {(p, c, r) for p, c, r in await db.fetch("sync/relationships_touching",
                                                        {"entity_ids": sorted(page_ids)})}
    todo = plan(existing, resolve(owned_edges), resolve(inbound_edges), owned_relationships(entity_type), page_ids)
    for batch in _chunks(todo.stale, INSERT_BATCH):
        removed += await db.execute("sync/delete_relationships", _columns(batch))
    inserted = 0
    for batch in _chunks(todo.missing, INSERT_BATCH):
        inserted += await db.execute("sync/insert_relationships", {
            "tenant_id": tenant_id, "data_source_id": data_source_id, "sync_id": sync_id, **_columns(batch)})
    return LinkResult(inserted, removed)
