"""Comparison mode (COMPARE_ANALYZERS=true): legacy against unified findings on the same
data, as multisets keyed (entity, alert type, severity), in BOTH directions (the refactor plan's
compareFindings walked only the unified side), plus counts per alert type.

Differences that a declared legacy quirk explains (they vanish when that quirk is turned
off) are counted as `ignored`, apart from matches and mismatches.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import Finding, TenantSnapshot
from msp_pipeline.rules import Quirks, all_findings

MISMATCH_LIST = "pipeline:comparison:mismatches"
MISMATCH_LIST_CAP = 1_000
WEBHOOK_TIMEOUT_S = 3.0
Key = tuple[str, str, str]


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


def compare_analysis(snapshot: TenantSnapshot, now: datetime, legacy_quirks: Quirks,
                     ignored_quirks: Collection[str]) -> ComparisonResult:
    validate_quirk_names(ignored_quirks)
    unified = all_findings(snapshot, now, Quirks())
    legacy = all_findings(snapshot, now, legacy_quirks)
    fixed = replace(legacy_quirks, **{name: False for name in ignored_quirks})
    legacy_fixed = all_findings(snapshot, now, fixed) if fixed != legacy_quirks else legacy
    full, remaining = compare_findings(unified, legacy), compare_findings(unified, legacy_fixed)
    mismatch_u, mismatch_l = full.only_unified & remaining.only_unified, full.only_legacy & remaining.only_legacy
    mismatched = sum(mismatch_u.values()) + sum(mismatch_l.values())
    ignored = sum((full.only_unified - mismatch_u).values()) + sum((full.only_legacy - mismatch_l).values())
    types = tuple(sorted({k[1] for k in mismatch_u} | {k[1] for k in mismatch_l}))
    return ComparisonResult(full.matched, mismatched, ignored,
                            _describe("unified", mismatch_u) + _describe("legacy", mismatch_l), full.by_type, types)


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
                                  "differences": result.differences[:100], "byType": result.by_type}
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
