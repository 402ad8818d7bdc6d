"""Unified alert manager (phase 5): the full alert lifecycle in set-based statements.

Findings are explicit for every analysis type, even when there are none, so an alert whose
cause was fixed is resolved (the legacy "MFA bug" fixed). Run inside the caller's
transaction; it issues exactly `ALERT_WRITE_QUERIES` statements whatever the number of
findings:
1. `unified/alerts_lock`: a transaction lock per tenant data source;
2. `unified/alerts_apply`: create / update / resolve and one history row per change;
3. `unified/entity_states`: entity state from the active alerts (`rules.entity_state`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from msp_pipeline.analysis import ChangeKey
from msp_pipeline.db import Db
from msp_pipeline.model import Finding
from msp_pipeline.rules import ALERT_TYPES_OF_RULE_SET, entity_state
from msp_pipeline.unified.context import EntityKey

CHANGED_BY = "unified-alert-manager"
ACTIVE_ALERTS_FOR_PLAN = "legacy/comparison/unified_active_alerts"  # comparison mode only
ALERT_WRITE_QUERIES = 3
COVERED_ALERT_TYPES: tuple[str, ...] = tuple(
    alert_type for types in ALERT_TYPES_OF_RULE_SET.values() for alert_type in types)


@dataclass(frozen=True)
class AlertChanges:
    created: int = 0
    updated: int = 0
    resolved: int = 0
    history_rows: int = 0


def _entity_id(entity_ids: Mapping[EntityKey, int], finding: Finding) -> int:
    key = (finding.entity_type, finding.entity_external_id)
    if key not in entity_ids:
        raise KeyError(f"finding on {key!r} names an entity that was not loaded for this tenant")
    return entity_ids[key]


def alert_rows(findings: Iterable[Finding], entity_ids: Mapping[EntityKey, int]) -> list[dict[str, Any]]:
    """The findings as rows of `unified/alerts_apply` (one per alert identity)."""
    return [{
        "entity_id": _entity_id(entity_ids, f), "alert_type": f.alert_type, "subject": f.subject,
        "severity": f.severity, "message": f.message,
        "metadata": {"entityType": f.entity_type, "externalId": f.entity_external_id, "analyzer": "unified"},
    } for f in findings]


def state_rows(findings: Iterable[Finding], entity_ids: Mapping[EntityKey, int]) -> list[dict[str, Any]]:
    """Entity state of every entity with findings; after the apply statement its active
    alerts of the covered types are exactly these findings."""
    severities: dict[int, list[str]] = {}
    for f in findings:
        severities.setdefault(_entity_id(entity_ids, f), []).append(f.severity)
    return [{"entity_id": entity_id, "state": entity_state(found)} for entity_id, found in severities.items()]


async def write_alerts(db: Db, tenant_id: str, data_source_id: str, findings: list[Finding],
                       entity_ids: Mapping[EntityKey, int], *, trace_id: str, sync_id: str) -> AlertChanges:
    """Brings the active alerts of the tenant's data source in line with `findings` (all
    covered alert types). Call inside a transaction."""
    unknown = sorted({f.alert_type for f in findings} - set(COVERED_ALERT_TYPES))
    if unknown:
        raise ValueError(f"alert type {unknown[0]!r} is not one of {list(COVERED_ALERT_TYPES)}")
    scope = {"tenant_id": tenant_id, "data_source_id": data_source_id}
    await db.execute("unified/alerts_lock", scope)
    rows = await db.fetch("unified/alerts_apply", {
        **scope, "findings": Jsonb(alert_rows(findings, entity_ids)),
        "alert_types": list(COVERED_ALERT_TYPES), "changed_by": CHANGED_BY,
        "trace_id": trace_id, "sync_id": sync_id,
    })
    await db.execute("unified/entity_states", {
        **scope, "states": Jsonb(state_rows(findings, entity_ids)), "default_state": entity_state(()),
    })
    created, updated, resolved, history = (int(n) for n in rows[0])
    return AlertChanges(created, updated, resolved, history)


# An active alert as read for a plan: (alert id, entity id, alert type, subject, severity, message).
CurrentAlert = tuple[int, int, str, str, str, str]


def plan_changes(findings: Iterable[Finding], entity_ids: Mapping[EntityKey, int],
                 current: Iterable[CurrentAlert]) -> list[ChangeKey]:
    """The changes `unified/alerts_apply` would make, computed without writing: the same
    FULL JOIN of the findings (first of each identity) with the current active alerts."""
    found: dict[tuple[int, str, str], tuple[str, str]] = {}
    for row in alert_rows(findings, entity_ids):
        found.setdefault((row["entity_id"], row["alert_type"], row["subject"]), (row["severity"], row["message"]))
    active = {(entity_id, alert_type, subject): (severity, message)
              for _id, entity_id, alert_type, subject, severity, message in current
              if alert_type in COVERED_ALERT_TYPES}
    changes: list[ChangeKey] = []
    for key, wanted in found.items():
        if key not in active:
            changes.append(("created", *key))
        elif active[key] != wanted:
            changes.append(("updated", *key))
    changes += [("resolved", *key) for key in active if key not in found]
    return sorted(changes)


async def read_current_alerts(db: Db, tenant_id: str, data_source_id: str) -> list[CurrentAlert]:
    """Comparison mode: the active alerts a plan reconciles (one statement, tagged as comparison)."""
    rows = await db.fetch(ACTIVE_ALERTS_FOR_PLAN, {"tenant_id": tenant_id, "data_source_id": data_source_id,
                                                   "alert_types": list(COVERED_ALERT_TYPES)})
    return [(int(a), int(e), t, s, sev, msg) for a, e, t, s, sev, msg in rows]
