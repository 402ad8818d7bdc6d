"""Comparison mode (COMPARE_ANALYZERS=true): the two implementations' findings for one sync
as multisets keyed (entity, alert type, severity), in BOTH directions (the refactor plan's
compareFindings walked only the unified side), plus counts per alert type, and their
intended alert changes (created / updated / resolved).

Differences that a declared legacy quirk explains (they vanish when the legacy rules run
again on the legacy side's own loaded data with that quirk turned off) are counted as
`ignored`, per rule, apart from matches and mismatches. Alert-change differences are
either carried by a finding difference (counted there), known (they vanish when the legacy
alert manager decides again with the ignored quirks and `mfa_resolve_bug`, the bug the
unified manager fixes, turned off), or mismatched.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from redis.asyncio import Redis

from msp_pipeline.analysis import CHANGE_KINDS, ChangeKey, change_counts
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import Finding
from msp_pipeline.rules import ALERT_TYPES_OF_RULE_SET, Quirks

MISMATCH_LIST = "pipeline:comparison:mismatches"
MISMATCH_LIST_CAP = 1_000
WEBHOOK_TIMEOUT_S = 3.0
MAX_LISTED = 100
UNIFIED_ONLY, LEGACY_ONLY = "unified-only", "legacy-only"
COMBINED_RULES = "several quirks together"
MFA_RESOLVE_BUG = "mfa_resolve_bug"
MFA_TYPES = frozenset(ALERT_TYPES_OF_RULE_SET["mfa"])
Key = tuple[str, str, str]
LegacyRerun = Callable[[Quirks], list[Finding]]  # the legacy rules again on the legacy side's loaded data


@dataclass(frozen=True)
class FindingDiff:
    only_unified: Counter[Key]
    only_legacy: Counter[Key]
    matched: int
    by_type: dict[str, dict[str, int]]

    @property
    def match(self) -> bool:
        return not self.only_unified and not self.only_legacy


@dataclass(frozen=True)
class ComparisonResult:
    matched: int
    mismatched: int
    ignored: int
    differences: list[str] = field(default_factory=list)
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    mismatched_types: tuple[str, ...] = ()
    mismatches: list[dict[str, Any]] = field(default_factory=list)  # one per (side, entity, type, severity)
    mismatched_by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    ignored_by_rule: dict[str, int] = field(default_factory=dict)
    alert_changes: dict[str, Any] = field(default_factory=dict)


def _keys(findings: Sequence[Finding]) -> Counter[Key]:
    return Counter(f.key for f in findings)


def compare_findings(unified: Sequence[Finding], legacy: Sequence[Finding]) -> FindingDiff:
    u, g = _keys(unified), _keys(legacy)
    types = sorted({k[1] for k in u} | {k[1] for k in g})
    by_type = {t: {"unified": sum(n for k, n in u.items() if k[1] == t),
                   "legacy": sum(n for k, n in g.items() if k[1] == t)} for t in types}
    return FindingDiff(u - g, g - u, sum((u & g).values()), by_type)


def validate_quirk_names(names: Collection[str]) -> None:
    unknown = sorted(set(names) - set(Quirks.names()))
    if unknown:
        raise ValueError(f"ignore rule {unknown[0]!r} is not a quirk; allowed: {', '.join(Quirks.names())}")


def _describe(side: str, counter: Counter[Key]) -> list[str]:
    return [f"{side} only: {alert} {severity} on {entity}" + (f" x{n}" if n > 1 else "")
            for (entity, alert, severity), n in sorted(counter.items())]


def _listed(side: str, counter: Counter[Key]) -> list[dict[str, Any]]:
    return [{"side": side, "entity": entity, "alertType": alert, "severity": severity, "count": n}
            for (entity, alert, severity), n in sorted(counter.items())]


def _by_type(mismatch_u: Counter[Key], mismatch_l: Counter[Key]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for side, counter in ((UNIFIED_ONLY, mismatch_u), (LEGACY_ONLY, mismatch_l)):
        for (_, alert, _), n in counter.items():
            out.setdefault(alert, {UNIFIED_ONLY: 0, LEGACY_ONLY: 0})[side] += n
    return dict(sorted(out.items()))


def _ignored_by_rule(unified: Sequence[Finding], full: FindingDiff, ignored_u: Counter[Key], ignored_l: Counter[Key],
                     legacy_quirks: Quirks, rules: Sequence[str], rerun: LegacyRerun) -> dict[str, int]:
    """Each ignored difference counted once, under the first rule whose quirk alone explains it."""
    left_u, left_l, out = Counter(ignored_u), Counter(ignored_l), {}
    for rule in rules:
        if not getattr(legacy_quirks, rule):
            continue
        alone = compare_findings(unified, rerun(replace(legacy_quirks, **{rule: False})))
        explained_u = left_u - alone.only_unified
        explained_l = left_l - alone.only_legacy
        out[rule] = sum(explained_u.values()) + sum(explained_l.values())
        left_u, left_l = left_u - explained_u, left_l - explained_l
    if left_u or left_l:
        out[COMBINED_RULES] = sum(left_u.values()) + sum(left_l.values())
    return {rule: n for rule, n in out.items() if n}


def compare_with_rules(unified: Sequence[Finding], legacy: Sequence[Finding], legacy_quirks: Quirks,
                       ignored_quirks: Collection[str], rerun: LegacyRerun) -> ComparisonResult:
    """Findings of both implementations; `rerun` gives the legacy findings again with other
    quirks (on the legacy side's own loaded data) to tell declared quirks from mismatches."""
    validate_quirk_names(ignored_quirks)
    fixed = replace(legacy_quirks, **{name: False for name in ignored_quirks})
    legacy_fixed = rerun(fixed) if fixed != legacy_quirks else list(legacy)
    full, remaining = compare_findings(unified, legacy), compare_findings(unified, legacy_fixed)
    # Unified must equal legacy with the ignored quirks off: what still differs then is a mismatch,
    # also when the quirky legacy happens to agree (unified reproducing a legacy bug, or a loader
    # fault that a quirk hides); what differs only with the quirks on is ignored.
    mismatch_u, mismatch_l = remaining.only_unified, remaining.only_legacy
    ignored_u, ignored_l = full.only_unified - mismatch_u, full.only_legacy - mismatch_l
    mismatched = sum(mismatch_u.values()) + sum(mismatch_l.values())
    types = tuple(sorted({k[1] for k in mismatch_u} | {k[1] for k in mismatch_l}))
    return ComparisonResult(
        full.matched, mismatched, sum(ignored_u.values()) + sum(ignored_l.values()),
        _describe("unified", mismatch_u) + _describe("legacy", mismatch_l), full.by_type, types,
        (_listed(UNIFIED_ONLY, mismatch_u) + _listed(LEGACY_ONLY, mismatch_l))[:MAX_LISTED],
        _by_type(mismatch_u, mismatch_l),
        _ignored_by_rule(unified, full, ignored_u, ignored_l, legacy_quirks, sorted(ignored_quirks), rerun))


NamedChange = tuple[str, str, str, str]  # (kind, entity external id, alert type, subject)


def _named(changes: Sequence[ChangeKey], names: Mapping[int, str]) -> Counter[NamedChange]:
    return Counter((kind, names.get(entity_id, f"#{entity_id}"), alert, subject)
                   for kind, entity_id, alert, subject in changes)


def compare_changes(unified: Sequence[ChangeKey], legacy: Sequence[ChangeKey], legacy_fixed: Sequence[ChangeKey],
                    finding_differences: Collection[tuple[str, str]], names: Mapping[int, str]) -> dict[str, Any]:
    """Intended alert changes of both managers. `legacy_fixed`: the legacy manager's decisions
    again with the ignored quirks and mfa_resolve_bug off; `finding_differences`: the
    (entity, alert type) pairs of every finding difference, ignored or not. As for findings,
    unified must equal `legacy_fixed`; a difference only against `legacy` is known."""
    u, g, g_fixed = _named(unified, names), _named(legacy, names), _named(legacy_fixed, names)
    counts: dict[str, Any] = {"unified": change_counts(list(unified)), "legacy": change_counts(list(legacy)),
                              "followsFindings": 0, "known": {}, "mismatched": 0, "mismatches": []}
    for side, full, fixed in ((UNIFIED_ONLY, u - g, u - g_fixed), (LEGACY_ONLY, g - u, g_fixed - u)):
        for change in sorted(set(full) | set(fixed)):
            kind, entity, alert, subject = change
            if (entity, alert) in finding_differences:
                counts["followsFindings"] += max(full[change], fixed[change])
                continue
            if full[change] > fixed[change]:
                rule = MFA_RESOLVE_BUG if kind == "resolved" and alert in MFA_TYPES else COMBINED_RULES
                counts["known"][rule] = counts["known"].get(rule, 0) + full[change] - fixed[change]
            if fixed[change]:
                counts["mismatched"] += fixed[change]
                counts["mismatches"].append({"side": side, "change": kind, "entity": entity, "alertType": alert,
                                             "subject": subject, "count": fixed[change]})
    counts["mismatches"] = counts["mismatches"][:MAX_LISTED]
    return counts


def finding_difference_pairs(*pairs: tuple[Sequence[Finding], Sequence[Finding]]) -> set[tuple[str, str]]:
    """(entity, alert type) of every difference between each (unified, legacy) pair."""
    out: set[tuple[str, str]] = set()
    for unified, legacy in pairs:
        diff = compare_findings(unified, legacy)
        out |= {(entity, alert) for entity, alert, _ in (diff.only_unified + diff.only_legacy)}
    return out


def with_alert_changes(result: ComparisonResult, changes: Mapping[str, Any]) -> ComparisonResult:
    """The result with the alert-change comparison; its mismatches count as mismatches."""
    types = set(result.mismatched_types) | {m["alertType"] for m in changes.get("mismatches", [])}
    return replace(result, mismatched=result.mismatched + int(changes.get("mismatched", 0)),
                   mismatched_types=tuple(sorted(types)), alert_changes=dict(changes),
                   differences=result.differences + [
                       f"{m['side']} alert change: {m['change']} {m['alertType']} on {m['entity']}"
                       for m in changes.get("mismatches", [])])


__all__ = ["CHANGE_KINDS", "ComparisonResult", "MismatchReporter", "compare_changes", "compare_findings",
           "compare_with_rules", "finding_difference_pairs", "with_alert_changes"]


class MismatchReporter:
    """On a mismatch: the counter, one structured log line, the webhook (the refactor plan's alert to
    the ops team) when set, and a capped Redis list of the last 1 000."""

    def __init__(self, metrics: Metrics, redis: Redis | None, webhook_url: str) -> None:
        self.metrics = metrics
        self.redis = redis
        self.webhook_url = webhook_url

    async def report(self, tenant_id: str, sync_id: str, result: ComparisonResult) -> None:
        if not result.mismatched:
            return
        for alert_type in result.mismatched_types or ("unknown",):
            self.metrics.comparison_mismatches.labels(alert_type).inc()
        record: dict[str, Any] = {"tenantId": tenant_id, "syncId": sync_id, "mismatched": result.mismatched,
                                  "ignored": result.ignored, "matched": result.matched,
                                  "differences": result.differences[:100], "byType": result.by_type,
                                  "mismatches": result.mismatches[:20]}
        log("ComparisonMode", "mismatch", "Findings mismatch detected!", level="warn", **record)
        payload = json.dumps(record)
        if self.redis is not None:
            await self.redis.lpush(MISMATCH_LIST, payload)
            await self.redis.ltrim(MISMATCH_LIST, 0, MISMATCH_LIST_CAP - 1)
        if self.webhook_url:
            try:
                await asyncio.to_thread(self._post, payload.encode())
            except OSError as exc:
                log("ComparisonMode", "webhook", f"webhook failed: {exc}", level="error")
                self.metrics.errors.labels("comparison", "webhook").inc()

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(self.webhook_url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            response.read()
