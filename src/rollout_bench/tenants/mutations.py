"""Changes to graph_source between syncs, as a tenant's admins would make them, so the
next sync creates, updates and resolves alerts. Used by the load test's mutation user."""

from __future__ import annotations

import random
from typing import Any

import psycopg

from rollout_bench.sql import load

MFA_FOR_ALL = "Require MFA for all users"
MUTATION_KINDS = ("disable_user", "enable_user", "sign_in", "policy_exclude_user", "policy_include_user")


def _pick(conn: psycopg.Connection[Any], name: str, params: tuple[Any, ...], rng: random.Random) -> str | None:
    ids = [row[0] for row in conn.execute(load(name), params)]
    return rng.choice(ids) if ids else None


def apply_mutation(conn: psycopg.Connection[Any], tenant_id: str, kind: str, rng: random.Random) -> str:
    """Applies one mutation; returns what it changed (or why nothing was)."""
    if kind not in MUTATION_KINDS:
        raise ValueError(f"mutation {kind!r} is not one of {', '.join(MUTATION_KINDS)}")
    if kind in ("disable_user", "enable_user"):
        enabled = kind == "enable_user"
        user = _pick(conn, "tenants/users_by_enabled", (tenant_id, not enabled), rng)
        if user is None:
            return f"{kind}: no candidate"
        conn.execute(load("tenants/set_user_enabled"), (enabled, tenant_id, user))
        return f"{kind}: {user}"
    if kind == "sign_in":
        user = _pick(conn, "tenants/users_by_enabled", (tenant_id, True), rng)
        if user is None:
            return "sign_in: no candidate"
        conn.execute(load("tenants/set_user_signed_in"), (tenant_id, user))
        return f"sign_in: {user}"
    user = _pick(conn, "tenants/users_by_enabled", (tenant_id, True), rng)
    if user is None:
        return f"{kind}: no candidate"
    statement = "tenants/policy_add_exclude" if kind == "policy_exclude_user" else "tenants/policy_remove_exclude"
    conn.execute(load(statement), {"user": user, "tenant_id": tenant_id, "policy": MFA_FOR_ALL})
    return f"{kind}: {user}"
