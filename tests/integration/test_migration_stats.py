"""TenantMigration.stats counts tenants on each path from the real tenants table."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from msp_pipeline.db import Db
from msp_pipeline.migration import TenantMigration

pytestmark = pytest.mark.integration


def _insert_tenants(database_url: str, tenants: list[tuple[str, str]]) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO tenants (id, name, status) VALUES (%s, %s, %s)",
                        [(tenant_id, tenant_id, status) for tenant_id, status in tenants])


def _stats(database_url: str, migration: TenantMigration) -> tuple[dict[str, Any], int]:
    async def run() -> tuple[dict[str, Any], int]:
        db = await Db.connect(database_url)
        try:
            async with db.counting() as counted:
                stats = await migration.stats(db)
            return stats, counted.statements
        finally:
            await db.close()
    return asyncio.run(run())


def test_stats_counts_each_path(database_url: str) -> None:
    active = [f"tenant-{i}" for i in range(60)]
    _insert_tenants(database_url, [(t, "active") for t in active] + [("gone-1", "inactive"), ("gone-2", "suspended")])
    migration = TenantMigration(bullmq_enabled=True, unified_enabled=True, percentage=30,
                                unified_tenants=frozenset({"tenant-1", "tenant-2", "typo-tenant"}))
    stats, statements = _stats(database_url, migration)
    in_percentage = sum(1 for t in active if TenantMigration.bucket(t) < 30)
    assert 0 < in_percentage < len(active)
    assert stats == {
        "tenants_total": 62, "active_tenants": 60,
        "bullmq_tenants": in_percentage, "legacy_queue_tenants": 60 - in_percentage,
        "unified_tenants": 2, "legacy_analyzer_tenants": 58,
        "percentage": 30, "unknown_listed_tenants": ["typo-tenant"],
    }
    assert statements == 1


def test_stats_accepts_a_plain_async_connection(database_url: str) -> None:
    _insert_tenants(database_url, [("a", "active"), ("b", "active")])

    async def run() -> dict[str, Any]:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            return await TenantMigration().stats(conn)
    stats = asyncio.run(run())
    assert stats["active_tenants"] == 2 and stats["bullmq_tenants"] == 0 and stats["legacy_queue_tenants"] == 2
