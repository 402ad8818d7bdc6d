"""Bulk loading (COPY) of synthetic tenants, as if each had been synced once: tenant, data
source, graph_source rows (what the adapter pages through), entities with normalized data
and hash, and the relationships the payloads declare."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from msp_pipeline.contract.subjects import INTEGRATION_ID
from msp_pipeline.model import ENTITY_TYPES, normalize, payload_hash, relationships_of
from rollout_bench.sql import load
from rollout_bench.tenants.generator import (
    SyntheticTenant,
    default_as_of,
    generate_tenant,
)
from rollout_bench.tenants.profiles import load_profile

SEED_SYNC_ID = "seed"
SUPPORTED_TYPES = [{"type": t, "priority": 5, "rate_minutes": 60} for t in ENTITY_TYPES]


@dataclass
class LoadReport:
    profile: str
    seed: int
    as_of: datetime
    tenant_ids: list[str] = field(default_factory=list)
    entities: int = 0
    relationships: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "seed": self.seed, "as_of": self.as_of.isoformat(),
                "tenants": len(self.tenant_ids), "entities": self.entities,
                "relationships": self.relationships, "seconds": round(self.seconds, 3)}


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _copy(cur: psycopg.Cursor[Any], table_sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with cur.copy(table_sql) as copy:
        for row in rows:
            copy.write_row(row)


def write_tenants(conn: psycopg.Connection[Any], tenants: list[SyntheticTenant]) -> tuple[int, int]:
    """Writes the tenants in one transaction; returns (entities, relationships)."""
    entity_rows: list[tuple[Any, ...]] = []
    relationship_rows: list[tuple[Any, ...]] = []
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(load("tenants/insert_integration"), (INTEGRATION_ID, "Microsoft 365", _dump(SUPPORTED_TYPES)))
        _copy(cur, "COPY tenants (id, name, status) FROM STDIN", ((t.tenant_id, t.name, "active") for t in tenants))
        _copy(cur, "COPY data_sources (id, tenant_id, integration_id, status, current_sync_id) FROM STDIN",
              ((t.data_source_id, t.tenant_id, INTEGRATION_ID, "active", SEED_SYNC_ID) for t in tenants))
        total = sum(len(rows) for t in tenants for rows in t.payloads.values())
        cur.execute(load("tenants/reserve_entity_ids"), (total,))
        ids = iter(row[0] for row in cur.fetchall())
        graph_rows = []
        for t in tenants:
            entity_ids: dict[tuple[str, str], int] = {}
            for entity_type, payloads in t.payloads.items():
                for payload in payloads:
                    entity_id = next(ids)
                    entity_ids[(entity_type, payload["id"])] = entity_id
                    raw = _dump(payload)
                    graph_rows.append((t.tenant_id, t.data_source_id, entity_type, payload["id"], raw))
                    entity_rows.append((entity_id, t.tenant_id, t.data_source_id, entity_type, payload["id"],
                                        payload_hash(payload), raw, _dump(normalize(entity_type, payload)),
                                        SEED_SYNC_ID))
            seen: set[tuple[int, int, str]] = set()
            for entity_type, payloads in t.payloads.items():
                for payload in payloads:
                    for ptype, pext, ctype, cext, rtype in relationships_of(entity_type, payload["id"], payload):
                        parent, child = entity_ids.get((ptype, pext)), entity_ids.get((ctype, cext))
                        if parent and child and (parent, child, rtype) not in seen:
                            seen.add((parent, child, rtype))
                            relationship_rows.append((t.tenant_id, t.data_source_id, parent, child, rtype, SEED_SYNC_ID))
        _copy(cur, "COPY graph_source (tenant_id, data_source_id, entity_type, external_id, payload) FROM STDIN",
              graph_rows)
        _copy(cur, "COPY entities (id, tenant_id, data_source_id, entity_type, external_id, data_hash, raw_data, "
                   "normalized_data, sync_id) FROM STDIN", entity_rows)
        _copy(cur, "COPY entity_relationships (tenant_id, data_source_id, parent_entity_id, child_entity_id, "
                   "relationship_type, sync_id) FROM STDIN", relationship_rows)
    return len(entity_rows), len(relationship_rows)


def generate_tenants(profile_name: str, count: int, seed: int, as_of: datetime | None = None,
                     first_index: int = 0) -> list[SyntheticTenant]:
    profile = load_profile(profile_name)
    as_of = as_of or default_as_of()
    return [generate_tenant(profile, seed, first_index + i, as_of) for i in range(count)]


def load_tenants(database_url: str, profile_name: str, count: int, seed: int,
                 as_of: datetime | None = None, first_index: int = 0) -> LoadReport:
    """Generates and loads `count` tenants of a profile; the schema must exist."""
    as_of = as_of or default_as_of()
    started = time.perf_counter()
    tenants = generate_tenants(profile_name, count, seed, as_of, first_index)
    with psycopg.connect(database_url) as conn:
        entities, relationships = write_tenants(conn, tenants)
    return LoadReport(profile_name, seed, as_of, [t.tenant_id for t in tenants], entities, relationships,
                      time.perf_counter() - started)
