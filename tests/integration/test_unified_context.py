"""Context loader on a small hand-made tenant; also home of that tenant's builder, which the
other unified tests import (`build_tenant`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from msp_pipeline.db import Db
from msp_pipeline.model import SECURITY_DEFAULTS_ID, format_time
from msp_pipeline.unified.context import CONTEXT_QUERIES, load_tenant_context

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
INTEGRATION = "microsoft-365"
SUPPORTED_TYPES = [{"type": t, "priority": 5, "rate_minutes": 60}
                   for t in ("identities", "groups", "roles", "policies", "licenses")]


@dataclass(frozen=True)
class HandTenant:
    tenant_id: str
    data_source_id: str
    expected: list[tuple[str, str, str, str]]  # (external id, alert type, severity, subject)


def _identity(name: str, *, enabled: bool = True, licenses: tuple[str, ...] = (), days: int = 1) -> dict[str, Any]:
    return {"name": name, "email": f"{name}@example.test", "type": "member", "enabled": enabled,
            "licenses": list(licenses), "last_login_at": format_time(NOW - timedelta(days=days))}


def _policy(name: str, *, include_users: list[str], exclude_users: list[str], include_groups: list[str],
            apps: list[str]) -> dict[str, Any]:
    return {"name": name, "status": "enabled", "include_users": include_users, "exclude_users": exclude_users,
            "include_groups": include_groups, "exclude_groups": [], "include_applications": apps,
            "built_in_controls": ["mfa"]}


def ensure_data_source(conn: psycopg.Connection[Any], tenant_id: str, data_source_id: str) -> None:
    conn.execute("INSERT INTO tenants (id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING", (tenant_id, tenant_id))
    conn.execute("INSERT INTO integrations (id, name, supported_types) VALUES (%s, 'Microsoft 365', %s) "
                 "ON CONFLICT DO NOTHING", (INTEGRATION, Jsonb(SUPPORTED_TYPES)))
    conn.execute("INSERT INTO data_sources (id, tenant_id, integration_id) VALUES (%s, %s, %s) "
                 "ON CONFLICT DO NOTHING", (data_source_id, tenant_id, INTEGRATION))


def build_tenant(database_url: str, tenant_id: str = "t-small", copies: int = 1) -> HandTenant:
    """`copies` times five users (an admin, one excluded from MFA, one disabled, one stale,
    one only partly covered), one group and one admin role each; two MFA policies, the
    security-defaults pseudo-policy and two licenses (one overused) for the tenant."""
    ds = f"{tenant_id}-m365"
    entities: list[tuple[str, str, dict[str, Any]]] = []
    memberships: list[tuple[str, str, str, str, str]] = []  # parent type, parent, child type, child, rel
    expected: list[tuple[str, str, str, str]] = [("E5", "license_overuse", "high", "")]
    excluded: list[str] = []
    partial_groups: list[str] = []
    for c in range(copies):
        alice, bob, carol, dave, erin = (f"{n}-{c}" for n in ("alice", "bob", "carol", "dave", "erin"))
        entities += [
            ("identities", alice, _identity(alice, licenses=("E3",))),
            ("identities", bob, _identity(bob, licenses=("E3",))),
            ("identities", carol, _identity(carol, enabled=False, licenses=("E3",))),
            ("identities", dave, _identity(dave, licenses=("E5",), days=120)),
            ("identities", erin, _identity(erin)),
            ("roles", f"role-{c}", {"name": "Global Administrator"}),
            ("groups", f"partial-{c}", {"name": f"Partial MFA {c}"}),
        ]
        memberships += [("roles", f"role-{c}", "identities", alice, "assigned_role"),
                        ("groups", f"partial-{c}", "identities", erin, "member_of"),
                        ("licenses", "E3", "identities", alice, "has_license")]
        excluded += [bob, erin]
        partial_groups.append(f"partial-{c}")
        expected += [(bob, "mfa_not_enforced", "high", ""), (bob, "policy_gap", "medium", ""),
                     (carol, "license_waste", "medium", "E3"), (dave, "license_waste", "low", "E5"),
                     (dave, "stale_user", "medium", ""), (erin, "mfa_partial_enforced", "medium", "")]
    entities += [
        ("policies", "p-all", _policy("MFA everyone", include_users=["All"], exclude_users=excluded,
                                      include_groups=[], apps=["All"])),
        ("policies", "p-partial", _policy("MFA Office", include_users=[], exclude_users=[],
                                          include_groups=partial_groups, apps=["office365"])),
        ("policies", SECURITY_DEFAULTS_ID, {"name": "Security defaults", "security_defaults_enabled": False}),
        ("licenses", "E3", {"sku_id": "E3", "name": "ENTERPRISEPACK", "total_units": 1000, "consumed_units": 10}),
        ("licenses", "E5", {"sku_id": "E5", "name": "ENTERPRISEPREMIUM", "total_units": 10, "consumed_units": 12}),
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_data_source(conn, tenant_id, ds)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO entities (tenant_id, data_source_id, entity_type, external_id, data_hash, raw_data, "
                "normalized_data) VALUES (%s, %s, %s, %s, 'h', '{}', %s)",
                [(tenant_id, ds, t, ext, Jsonb(data)) for t, ext, data in entities])
            cur.executemany(
                "INSERT INTO entity_relationships (tenant_id, data_source_id, parent_entity_id, child_entity_id, "
                "relationship_type) SELECT %s, %s, p.id, c.id, %s FROM entities p, entities c "
                "WHERE p.data_source_id = %s AND p.entity_type = %s AND p.external_id = %s "
                "AND c.data_source_id = %s AND c.entity_type = %s AND c.external_id = %s",
                [(tenant_id, ds, rel, ds, pt, p, ds, ct, ch) for pt, p, ct, ch, rel in memberships])
    return HandTenant(tenant_id, ds, sorted(expected))


def set_policy_excludes(database_url: str, tenant: HandTenant, exclude_users: list[str]) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE entities SET normalized_data = jsonb_set(normalized_data, '{exclude_users}', %s) "
                     "WHERE data_source_id = %s AND entity_type = 'policies' AND external_id = 'p-all'",
                     (Jsonb(exclude_users), tenant.data_source_id))


async def _load(database_url: str, tenant: HandTenant):  # type: ignore[no-untyped-def]
    db = await Db.connect(database_url)
    try:
        async with db.counting() as stats:
            context = await load_tenant_context(db, tenant.tenant_id, tenant.data_source_id)
        return context, stats
    finally:
        await db.close()


@pytest.mark.integration
def test_loads_every_type_and_membership_in_two_statements(database_url: str) -> None:
    tenant = build_tenant(database_url, copies=2)
    build_tenant(database_url, "t-other", copies=3)  # another tenant: must not leak in
    context, stats = asyncio.run(_load(database_url, tenant))
    snap = context.snapshot
    assert stats.statements == CONTEXT_QUERIES == 2
    assert len(snap.identities) == 10 and set(snap.policies) == {"p-all", "p-partial"}
    assert set(snap.licenses) == {"E3", "E5"} and snap.security_defaults is False
    assert snap.groups_of("erin-1") == {"partial-1"} and snap.is_admin("alice-0") and not snap.is_admin("bob-0")
    assert snap.role_names == {"role-0": "Global Administrator", "role-1": "Global Administrator"}
    assert len(context.entity_ids) == 10 + 2 + 2 + 3 + 2
    assert stats.rows_read == len(context.entity_ids) + 4  # has_license rows are not read
