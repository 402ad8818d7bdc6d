"""Linker (phase 6): one bulk read of what exists, set arithmetic in memory, then
inserts and deletes in batches of 100 — no per-relationship query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..db import Db

INSERT_BATCH = 100
Edge = tuple[str, str, str, str, str]  # parent_type, parent_ext, child_type, child_ext, relationship_type


def _chunks(rows: Sequence[tuple[int, int, str]], size: int) -> Iterable[Sequence[tuple[int, int, str]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _columns(rows: Sequence[tuple[int, int, str]]) -> dict[str, list[Any]]:
    return {"parents": [r[0] for r in rows], "children": [r[1] for r in rows], "types": [r[2] for r in rows]}


async def link(db: Db, *, tenant_id: str, data_source_id: str, sync_id: str,
               outbound: list[Edge], inbound: list[Edge], page_parents: list[tuple[str, str]]) -> int:
    """Replaces the outbound edges of the page's entities (page_parents: (type, ext id))
    with `outbound`, and adds `inbound` (edges other payloads declare towards the page).
    Returns the number of relationships written (inserted or deleted)."""
    keys = {(e[0], e[1]) for e in outbound + inbound} | {(e[2], e[3]) for e in outbound + inbound}
    keys |= set(page_parents)
    if not keys:
        return 0
    ordered = sorted(keys)
    rows = await db.fetch("sync/entity_ids", {"data_source_id": data_source_id,
                                               "types": [k[0] for k in ordered],
                                               "external_ids": [k[1] for k in ordered]})
    ids = {(etype, ext): entity_id for etype, ext, entity_id in rows}

    def resolve(edges: list[Edge]) -> set[tuple[int, int, str]]:
        return {(ids[(pt, pe)], ids[(ct, ce)], rel) for pt, pe, ct, ce, rel in edges
                if (pt, pe) in ids and (ct, ce) in ids}

    wanted_out, wanted_in = resolve(outbound), resolve(inbound)
    parent_ids = sorted({ids[p] for p in page_parents if p in ids})
    existing: set[tuple[int, int, str]] = set()
    if parent_ids:
        existing = {(p, c, r) for p, c, r in await db.fetch("sync/outbound_relationships",
                                                            {"parent_ids": parent_ids})}
    stale = sorted(existing - wanted_out)
    missing = sorted((wanted_out - existing) | wanted_in)
    for batch in _chunks(stale, INSERT_BATCH):
        await db.execute("sync/delete_relationships", _columns(batch))
    for batch in _chunks(missing, INSERT_BATCH):
        await db.execute("sync/insert_relationships", {"tenant_id": tenant_id, "data_source_id": data_source_id,
                                                       "sync_id": sync_id, **_columns(batch)})
    return len(stale) + len(missing)
