"""Tenant routing for the migration (the refactor plan's `TenantMigration`, without its mistakes).

Which path a tenant takes is decided per flag, each with its own tenant list:
- queue:    USE_BULLMQ + BULLMQ_TENANTS                      -> `should_use_bullmq`
- analyzer: USE_UNIFIED_ANALYZER + UNIFIED_ANALYZER_TENANTS  -> `should_use_unified_analyzer`
both sharing MIGRATION_PERCENTAGE. Precedence as the refactor plan: flag off -> legacy; explicit
tenant list -> only those; else percentage -> bucket < percentage; else all tenants.

Differences from the refactor plan, on purpose:
- unset or empty MIGRATION_PERCENTAGE = all tenants (as the refactor plan), but an explicit `0`
  = no tenant by percentage (the refactor plan sent everyone to the new path there);
- the unified analyzer has its own flag and list (the refactor plan reused the BullMQ check);
- a missing or empty tenant id routes to legacy (fail closed);
- a bad value raises ConfigError instead of becoming NaN;
- tenant list entries are stripped of surrounding blanks; empty entries are dropped;
- `stats` counts tenants from the database (the refactor plan returned zeros).

The bucket is bit-exact with the refactor plan's TypeScript `hashString` over UTF-16 code units
(32-bit wrap, Math.abs, so -2**31 -> 2**31 -> bucket 48); fixtures/hash_vectors.json
holds vectors computed by Node running the refactor plan's function (fixtures/hash_vectors.mjs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from msp_pipeline.contract.settings import ConfigError, parse_bool
from msp_pipeline.db import Db

__all__ = ["ConfigError", "TenantMigration", "hash_string", "bucket_of"]

_INT32 = 1 << 32
_INT32_SIGN = 1 << 31
_WHOLE_NUMBER = re.compile(r"[0-9]{1,3}", re.ASCII)


def hash_string(text: str) -> int:
    """the refactor plan's `hashString`: hash = (hash << 5) - hash + charCode per UTF-16 code unit,
    kept to a signed 32-bit integer, then Math.abs (0 .. 2**31)."""
    code_units = text.encode("utf-16-le", "surrogatepass")
    value = 0
    for i in range(0, len(code_units), 2):
        char = code_units[i] | (code_units[i + 1] << 8)
        value = (value * 31 + char) % _INT32  # == ToInt32((h << 5) - h + c), unsigned form
    signed = value - _INT32 if value >= _INT32_SIGN else value
    return abs(signed)


def bucket_of(tenant_id: str) -> int:
    """0-99: the refactor plan's `hashString(tenantId) % 100`."""
    return hash_string(tenant_id) % 100


def _parse_tenants(env: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _parse_percentage(env: Mapping[str, str], name: str = "MIGRATION_PERCENTAGE") -> int | None:
    raw = env.get(name, "").strip()
    if raw == "":
        return None
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) > 100:
        raise ConfigError(f"{name}={raw!r} is not allowed; use a whole number from 0 to 100 "
                          "(0 = no tenant), or leave it empty for all tenants")
    return int(raw)


@dataclass(frozen=True)
class TenantMigration:
    bullmq_enabled: bool = False
    unified_enabled: bool = False
    compare_analyzers: bool = False
    bullmq_tenants: frozenset[str] = frozenset()
    unified_tenants: frozenset[str] = frozenset()
    percentage: int | None = None  # None = unset/empty = all tenants

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TenantMigration:
        """Reads the refactor plan's flags; raises ConfigError naming the variable on a bad value."""
        return cls(
            bullmq_enabled=parse_bool(env, "USE_BULLMQ", False),
            unified_enabled=parse_bool(env, "USE_UNIFIED_ANALYZER", False),
            compare_analyzers=parse_bool(env, "COMPARE_ANALYZERS", False),
            bullmq_tenants=_parse_tenants(env, "BULLMQ_TENANTS"),
            unified_tenants=_parse_tenants(env, "UNIFIED_ANALYZER_TENANTS"),
            percentage=_parse_percentage(env),
        )

    @staticmethod
    def bucket(tenant_id: str) -> int:
        """0-99, bit-exact with the refactor plan's `hashString(tenantId) % 100`."""
        return bucket_of(tenant_id)

    def _routes(self, enabled: bool, tenants: frozenset[str], tenant_id: str | None) -> bool:
        if not enabled or not tenant_id:
            return False
        if tenants:
            return tenant_id in tenants
        if self.percentage is not None:
            return bucket_of(tenant_id) < self.percentage
        return True

    def should_use_bullmq(self, tenant_id: str | None) -> bool:
        return self._routes(self.bullmq_enabled, self.bullmq_tenants, tenant_id)

    def should_use_unified_analyzer(self, tenant_id: str | None) -> bool:
        return self._routes(self.unified_enabled, self.unified_tenants, tenant_id)

    def _mode(self, enabled: bool, tenants: frozenset[str]) -> str:
        if not enabled:
            return "off"
        if tenants:
            return "list"
        return "percentage" if self.percentage is not None else "all"

    def describe(self) -> dict[str, Any]:
        """JSON-ready flags for logs and results; `*_mode` is off | list | percentage | all."""
        return {
            "bullmq_enabled": self.bullmq_enabled,
            "bullmq_tenants": sorted(self.bullmq_tenants),
            "bullmq_mode": self._mode(self.bullmq_enabled, self.bullmq_tenants),
            "unified_enabled": self.unified_enabled,
            "unified_tenants": sorted(self.unified_tenants),
            "unified_mode": self._mode(self.unified_enabled, self.unified_tenants),
            "percentage": self.percentage,
            "compare_analyzers": self.compare_analyzers,
        }

    async def stats(self, db: Db | psycopg.AsyncConnection[Any]) -> dict[str, Any]:
        """Real counts from the tenants table (one statement, sql/migration/tenant_ids.sql).

        Path counts cover active tenants (the only ones the scheduler runs);
        `tenants_total` counts every status. `unknown_listed_tenants` names list entries
        that are not in the table (a typo in BULLMQ_TENANTS routes nobody)."""
        runner = db if isinstance(db, Db) else Db(db)
        rows = await runner.fetch("migration/tenant_ids")
        known = {tenant_id for tenant_id, _ in rows}
        active = [tenant_id for tenant_id, status in rows if status == "active"]
        bullmq = sum(1 for tenant_id in active if self.should_use_bullmq(tenant_id))
        unified = sum(1 for tenant_id in active if self.should_use_unified_analyzer(tenant_id))
        return {
            "tenants_total": len(rows),
            "active_tenants": len(active),
            "bullmq_tenants": bullmq,
            "legacy_queue_tenants": len(active) - bullmq,
            "unified_tenants": unified,
            "legacy_analyzer_tenants": len(active) - unified,
            "percentage": self.percentage,
            "unknown_listed_tenants": sorted((self.bullmq_tenants | self.unified_tenants) - known),
        }
