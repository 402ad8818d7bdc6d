"""Every active alert of a tenant that differs from its planted truth, attributed to a known
legacy quirk by name, never hidden. The rules (`msp_pipeline.rules`) are run on the tenant's
synced entities with the legacy quirks, each one left out in turn: a difference belongs to
the quirks without which it would not be there. An extra MFA alert the legacy rules do not
raise any more is the alert manager's `mfa_resolve_bug` (a fixed MFA alert never resolved).
What no quirk explains is `unknown`, and fails the drill."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from msp_pipeline.model import Finding, TenantSnapshot
from msp_pipeline.rules import ALERT_TYPES_OF_RULE_SET, Quirks, all_findings

AlertId = tuple[str, str, str, str]  # (entity external id, alert type, severity, subject)
MFA_RESOLVE_BUG = "mfa_resolve_bug"
UNKNOWN = "unknown"
RULE_QUIRKS = [name for name in Quirks.names() if name != MFA_RESOLVE_BUG]  # quirks of the rules


@dataclass(frozen=True)
class AlertDifference:
    tenant_id: str
    alert: AlertId
    kind: str  # "extra" (active, not planted) | "missing" (planted, not active)
    quirks: tuple[str, ...]  # the quirks it is attributed to; (UNKNOWN,) when none explains it

    def to_dict(self) -> dict[str, Any]:
        entity, alert_type, severity, subject = self.alert
        return {"tenant": self.tenant_id, "kind": self.kind, "entity": entity, "alert_type": alert_type,
                "severity": severity, "subject": subject, "quirks": list(self.quirks)}


def _ids(findings: Iterable[Finding]) -> set[AlertId]:
    return {(f.entity_external_id, f.alert_type, f.severity, f.subject) for f in findings}


def snapshot_from_rows(tenant_id: str, entities: Iterable[tuple[Any, str, str, Mapping[str, Any], Any]],
                       memberships: Iterable[tuple[str, Any, Any]]) -> TenantSnapshot:
    """entities: (id, entity_type, external_id, normalized_data, tags); memberships:
    (relationship_type, parent id, child id), as drills/tenant_*.sql return them."""
    rows = list(entities)
    external = {int(entity_id): ext for entity_id, _, ext, _, _ in rows}
    return TenantSnapshot.from_rows(
        tenant_id, ((etype, ext, data, tags or ()) for _, etype, ext, data, tags in rows),
        ((rel, external[int(p)], external[int(c)]) for rel, p, c in memberships
         if int(p) in external and int(c) in external))


def attribute(tenant_id: str, truth: Iterable[Finding], active: Iterable[Finding], snapshot: TenantSnapshot,
              now: datetime) -> list[AlertDifference]:
    """The differences between `active` alerts and the planted `truth`, each with its quirks."""
    truth_c = Counter(_ids(truth))
    active_c = Counter((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in active)
    legacy = Quirks.legacy()
    legacy_ids = _ids(all_findings(snapshot, now, legacy))
    without = {q: _ids(all_findings(snapshot, now, replace(legacy, **{q: False}))) for q in RULE_QUIRKS}
    alone = {q: _ids(all_findings(snapshot, now, Quirks(**{q: True}))) for q in RULE_QUIRKS}
    correct = _ids(all_findings(snapshot, now, Quirks()))
    mfa_types = set(ALERT_TYPES_OF_RULE_SET["mfa"])
    out: list[AlertDifference] = []
    for kind, alerts in (("extra", active_c - truth_c), ("missing", truth_c - active_c)):
        for alert in sorted(alerts.elements()):
            present = kind == "extra"  # the legacy rules explain it when they agree with what is active
            if kind == "extra" and alert not in legacy_ids and alert[1] in mfa_types:
                names: list[str] = [MFA_RESOLVE_BUG]
            elif (alert in legacy_ids) == present:
                names = [q for q in RULE_QUIRKS if (alert in without[q]) != present]
                names = names or [q for q in RULE_QUIRKS if (alert in alone[q]) == present
                                  and (alert in correct) != present]
                names = names or [UNKNOWN]
            else:
                names = [UNKNOWN]
            out.append(AlertDifference(tenant_id, alert, kind, tuple(names)))
    return out


def by_quirk(differences: Iterable[AlertDifference]) -> dict[str, int]:
    """Differences per quirk name, the MFA resolve bug first (a difference with two quirks
    counts for both)."""
    counts: Counter[str] = Counter(q for d in differences for q in d.quirks)
    order = [MFA_RESOLVE_BUG, *RULE_QUIRKS, UNKNOWN]
    return {q: counts[q] for q in order if counts[q]}
