"""The legacy alert manager: one finding at a time (get, insert or update, history, entity
state: 2-3 statements per entity with findings). It only visits entities that have
findings in this run, so with `mfa_resolve_bug` an alert whose cause was fixed stays
active forever (the "MFA bug"); with the quirk off it resolves what was not found again.

Split in two so comparison mode can capture its decisions without writing: `plan_alerts`
issues the manager's reads and decides (`decide`, pure); `apply_plan` issues the writes.
Run one after the other in one transaction they issue the same statements as the original
get-then-write loop, in another order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from msp_pipeline.analysis import ChangeKey
from msp_pipeline.db import Db
from msp_pipeline.model import Finding
from msp_pipeline.rules import ALERT_TYPES_OF_RULE_SET, STALE_TAG, Quirks

AlertKey = tuple[int, str, str]  # (entity id, alert type, subject)
Existing = Mapping[AlertKey, tuple[int, str, str]]  # -> (alert id, severity, message)
ActiveAlert = tuple[int, int, str, str, str]  # (alert id, entity id, alert type, subject, severity)


@dataclass
class LegacyAlertPlan:
    """What the legacy alert manager would write for one analyzer's findings."""

    analyzer: str
    inserts: list[tuple[AlertKey, Finding]] = field(default_factory=list)
    updates: list[tuple[int, str, Finding]] = field(default_factory=list)  # (alert id, old severity, finding)
    resolves: list[tuple[int, str]] = field(default_factory=list)  # (alert id, severity)
    touched: list[int] = field(default_factory=list)
    changes: list[ChangeKey] = field(default_factory=list)

    @property
    def write_statements(self) -> int:
        """Each change is its statement plus one history row; one entity_state per entity."""
        return 2 * (len(self.inserts) + len(self.updates) + len(self.resolves)) + len(self.touched)


def resolve_scope(analyzer: str, quirks: Quirks, found_entities: Iterable[int]) -> list[int] | None:
    """The entities whose active alerts may be resolved: only those with findings under the
    MFA bug, else all (None)."""
    if quirks.mfa_resolve_bug and analyzer == "mfa":
        return sorted(set(found_entities))
    return None


def _alert_key(f: Finding, entity_ids: Mapping[tuple[str, str], int]) -> AlertKey:
    return entity_ids[(f.entity_type, f.entity_external_id)], f.alert_type, f.subject


def decide(analyzer: str, findings: list[Finding], entity_ids: Mapping[tuple[str, str], int],
           existing: Existing, active: Iterable[ActiveAlert], quirks: Quirks) -> LegacyAlertPlan:
    """The manager's decisions, given what its reads returned: `existing` (active alert per
    finding identity) and `active` (active alerts of the analyzer's types)."""
    plan = LegacyAlertPlan(analyzer)
    found: set[AlertKey] = set()
    touched: set[int] = set()
    for f in findings:
        key = _alert_key(f, entity_ids)
        if key in found:
            continue
        found.add(key)
        touched.add(key[0])
        current = existing.get(key)
        if current is None:
            plan.inserts.append((key, f))
            plan.changes.append(("created", *key))
        elif current[1] != f.severity or current[2] != f.message:
            plan.updates.append((current[0], current[1], f))
            plan.changes.append(("updated", *key))
    types = set(ALERT_TYPES_OF_RULE_SET[analyzer])
    scope = resolve_scope(analyzer, quirks, touched)
    for alert_id, entity_id, alert_type, subject, severity in active:
        if alert_type not in types or (scope is not None and entity_id not in scope):
            continue
        if (entity_id, alert_type, subject) not in found:
            plan.resolves.append((alert_id, severity))
            plan.changes.append(("resolved", entity_id, alert_type, subject))
            touched.add(entity_id)
    plan.touched = sorted(touched)
    return plan


async def plan_alerts(db: Db, scope: Mapping[str, str], analyzer: str, findings: list[Finding],
                      entity_ids: Mapping[tuple[str, str], int], quirks: Quirks) -> LegacyAlertPlan:
    """The manager's reads (one get per finding, then the active alerts of its types) and its
    decisions; writes nothing."""
    existing: dict[AlertKey, tuple[int, str, str]] = {}
    for f in findings:
        key = _alert_key(f, entity_ids)
        rows = await db.fetch("legacy/analyzers/alert_get", {
            "tenant_id": scope["tenant_id"], "entity_id": key[0], "alert_type": key[1], "subject": key[2]})
        if rows:
            existing[key] = (int(rows[0][0]), rows[0][1], rows[0][2])
    visited = resolve_scope(analyzer, quirks, (_alert_key(f, entity_ids)[0] for f in findings))
    active = [(int(a), int(e), t, s, sev) for a, e, t, s, sev in await db.fetch(
        "legacy/analyzers/alerts_active_of_types",
        {"tenant_id": scope["tenant_id"], "alert_types": list(ALERT_TYPES_OF_RULE_SET[analyzer]),
         "entity_ids": visited})]
    return decide(analyzer, findings, entity_ids, existing, active, quirks)


async def _history(db: Db, scope: Mapping[str, str], alert_id: int, previous: tuple[str | None, str | None],
                   new: tuple[str, str]) -> None:
    await db.execute("legacy/analyzers/alert_history", {
        "alert_id": alert_id, "tenant_id": scope["tenant_id"], "previous_status": previous[0],
        "new_status": new[0], "previous_severity": previous[1], "new_severity": new[1],
        "trace_id": scope["trace_id"], "sync_id": scope["sync_id"]})


async def apply_plan(db: Db, scope: Mapping[str, str], plan: LegacyAlertPlan) -> None:
    """The manager's writes for `plan` (call in the transaction `plan_alerts` ran in)."""
    for (entity_id, alert_type, subject), f in plan.inserts:
        rows = await db.fetch("legacy/analyzers/alert_insert", {
            "tenant_id": scope["tenant_id"], "entity_id": entity_id, "alert_type": alert_type, "subject": subject,
            "data_source_id": scope["data_source_id"], "severity": f.severity, "message": f.message})
        await _history(db, scope, rows[0][0], (None, None), ("active", f.severity))
    for alert_id, previous_severity, f in plan.updates:
        await db.execute("legacy/analyzers/alert_update", {"id": alert_id, "severity": f.severity,
                                                           "message": f.message})
        await _history(db, scope, alert_id, ("active", previous_severity), ("active", f.severity))
    for alert_id, severity in plan.resolves:
        await db.execute("legacy/analyzers/alert_resolve", {"id": alert_id})
        await _history(db, scope, alert_id, ("active", severity), ("resolved", severity))
    for entity_id in plan.touched:
        await db.execute("legacy/analyzers/entity_state", {"tenant_id": scope["tenant_id"], "entity_id": entity_id})


async def write_findings(db: Db, scope: Mapping[str, str], analyzer: str, findings: list[Finding],
                         entity_ids: Mapping[tuple[str, str], int], quirks: Quirks) -> LegacyAlertPlan:
    plan = await plan_alerts(db, scope, analyzer, findings, entity_ids, quirks)
    await apply_plan(db, scope, plan)
    return plan


def stale_tag_ids(findings: Iterable[Finding], entity_ids: Mapping[tuple[str, str], int]) -> list[int]:
    return sorted(entity_ids[("identities", f.entity_external_id)] for f in findings if f.alert_type == "stale_user")


def stale_tag_statements(findings: Iterable[Finding], entity_ids: Mapping[tuple[str, str], int]) -> int:
    """Statements `write_stale_tags` issues: one per stale identity plus the clear."""
    return len(stale_tag_ids(findings, entity_ids)) + 1


async def write_stale_tags(db: Db, scope: Mapping[str, str], findings: list[Finding],
                           entity_ids: Mapping[tuple[str, str], int]) -> None:
    """The stale analyzer tags stale identities; the license analyzer reads the tag later."""
    stale = stale_tag_ids(findings, entity_ids)
    for entity_id in stale:
        await db.execute("legacy/analyzers/set_stale_tag", {"tenant_id": scope["tenant_id"], "entity_id": entity_id})
    await db.execute("legacy/analyzers/clear_stale_tags", {"tenant_id": scope["tenant_id"],
                                                           "data_source_id": scope["data_source_id"],
                                                           "keep_ids": stale})


__all__ = ["STALE_TAG", "LegacyAlertPlan", "apply_plan", "decide", "plan_alerts", "write_findings",
           "write_stale_tags"]
