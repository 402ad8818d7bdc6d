"""Changes to graph_source between syncs, as a tenant's admins would make them, so the
next sync creates, updates and resolves alerts. Used by the load test's mutation user.

Each mutation picks its user among `candidates` (the plan's `mutation_candidates()`), so
its effect on the planted findings is known and `replay.expected_after` can say what the
tenant's findings must be once the change has been synced."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from rollout_bench.sql import load

MFA_FOR_ALL = "Require MFA for all users"
MUTATION_KINDS = ("disable_user", "enable_user", "sign_in", "policy_exclude_user", "policy_include_user")
_CANDIDATES = {"disable_user": ("healthy",), "enable_user": ("healthy",), "sign_in": ("healthy", "stale"),
               "policy_exclude_user": ("healthy",), "policy_include_user": ("healthy",)}


@dataclass(frozen=True)
class Mutation:
    tenant_id: str
    kind: str
    user: str | None  # None: no candidate, nothing changed

    def __str__(self) -> str:
        return f"{self.kind}: {self.user or 'no candidate'}"

    def to_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "kind": self.kind, "user": self.user}


def _pick(conn: psycopg.Connection[Any], enabled: bool, tenant_id: str, allowed: set[str] | None,
          rng: random.Random) -> str | None:
    ids = [row[0] for row in conn.execute(load("tenants/users_by_enabled"), (tenant_id, enabled))]
    if allowed is not None:
        ids = [i for i in ids if i in allowed]
    return rng.choice(ids) if ids else None


def apply_mutation(conn: psycopg.Connection[Any], tenant_id: str, kind: str, rng: random.Random,
                   candidates: Mapping[str, Sequence[str]] | None = None) -> Mutation:
    """Applies one mutation; returns what it changed. Without `candidates` any user may be picked
    (then the plan cannot follow it)."""
    if kind not in MUTATION_KINDS:
        raise ValueError(f"mutation {kind!r} is not one of {', '.join(MUTATION_KINDS)}")
    allowed = None if candidates is None else {u for group in _CANDIDATES[kind] for u in candidates.get(group, ())}
    user = _pick(conn, kind != "enable_user", tenant_id, allowed, rng)
    if user is None:
        return Mutation(tenant_id, kind, None)
    if kind in ("disable_user", "enable_user"):
        conn.execute(load("tenants/set_user_enabled"), (kind == "enable_user", tenant_id, user))
    elif kind == "sign_in":
        conn.execute(load("tenants/set_user_signed_in"), (tenant_id, user))
    else:
        statement = "tenants/policy_add_exclude" if kind == "policy_exclude_user" else "tenants/policy_remove_exclude"
        conn.execute(load(statement), {"user": user, "tenant_id": tenant_id, "policy": MFA_FOR_ALL})
    return Mutation(tenant_id, kind, user)
