"""The legacy alert manager: one finding at a time (get, insert or update, history, entity
state: 2-3 statements per entity with findings). It only visits entities that have
findings in this run, so with `mfa_resolve_bug` an alert whose cause was fixed stays
active forever (the "MFA bug"); with the quirk off it resolves what was not found again."""

from __future__ import annotations

from collections.abc import Mapping

from msp_pipeline.db import Db
from msp_pipeline.model import Finding
from msp_pipeline.rules import ALERT_TYPES_OF_RULE_SET, STALE_TAG, Quirks


async def _history(db: Db, scope: Mapping[str, str], alert_id: int, previous: tuple[str | None, str | None],
                   new: tuple[str, str]) -> None:
    await db.execute("legacy/analyzers/alert_history", {
        "alert_id": alert_id, "tenant_id": scope["tenant_id"], "previous_status": previous[0],
        "new_status": new[0], "previous_severity": previous[1], "new_severity": new[1],
        "trace_id": scope["trace_id"], "sync_id": scope["sync_id"]})


async def write_findings(db: Db, scope: Mapping[str, str], analyzer: str, findings: list[Finding],
                         entity_ids: Mapping[tuple[str, str], int], quirks: Quirks) -> None:
    alert_types = list(ALERT_TYPES_OF_RULE_SET[analyzer])
    found: set[tuple[int, str, str]] = set()
    touched: set[int] = set()
    for f in findings:
        entity_id = entity_ids[(f.entity_type, f.entity_external_id)]
        key = {"tenant_id": scope["tenant_id"], "entity_id": entity_id, "alert_type": f.alert_type,
               "subject": f.subject}
        found.add((entity_id, f.alert_type, f.subject))
        touched.add(entity_id)
        existing = await db.fetch("legacy/analyzers/alert_get", key)
        if not existing:
            rows = await db.fetch("legacy/analyzers/alert_insert", {**key, "data_source_id": scope["data_source_id"],
                                                                   "severity": f.severity, "message": f.message})
            await _history(db, scope, rows[0][0], (None, None), ("active", f.severity))
        elif existing[0][1] != f.severity or existing[0][2] != f.message:
            await db.execute("legacy/analyzers/alert_update", {"id": existing[0][0], "severity": f.severity,
                                                               "message": f.message})
            await _history(db, scope, existing[0][0], ("active", existing[0][1]), ("active", f.severity))
    resolve_everywhere = not (quirks.mfa_resolve_bug and analyzer == "mfa")
    visited = None if resolve_everywhere else sorted(touched)
    for alert_id, entity_id, alert_type, subject, severity in await db.fetch(
            "legacy/analyzers/alerts_active_of_types",
            {"tenant_id": scope["tenant_id"], "alert_types": alert_types, "entity_ids": visited}):
        if (entity_id, alert_type, subject) not in found:
            await db.execute("legacy/analyzers/alert_resolve", {"id": alert_id})
            await _history(db, scope, alert_id, ("active", severity), ("resolved", severity))
            touched.add(entity_id)
    for entity_id in sorted(touched):
        await db.execute("legacy/analyzers/entity_state", {"tenant_id": scope["tenant_id"], "entity_id": entity_id})


async def write_stale_tags(db: Db, scope: Mapping[str, str], findings: list[Finding],
                           entity_ids: Mapping[tuple[str, str], int]) -> None:
    """The stale analyzer tags stale identities; the license analyzer reads the tag later."""
    stale = sorted(entity_ids[("identities", f.entity_external_id)] for f in findings if f.alert_type == "stale_user")
    for entity_id in stale:
        await db.execute("legacy/analyzers/set_stale_tag", {"tenant_id": scope["tenant_id"], "entity_id": entity_id})
    await db.execute("legacy/analyzers/clear_stale_tags", {"tenant_id": scope["tenant_id"],
                                                           "data_source_id": scope["data_source_id"],
                                                           "keep_ids": stale})


__all__ = ["STALE_TAG", "write_findings", "write_stale_tags"]
