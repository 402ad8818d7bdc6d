"""Comparison mode on the unified side: the legacy rules against the unified rules on the
snapshot the unified analysis already loaded (no extra queries), the record kept in
analysis_runs.comparison, and mismatches handed to `comparison.MismatchReporter`."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msp_pipeline.comparison import ComparisonResult, MismatchReporter, compare_analysis
from msp_pipeline.contract.settings import ConfigError
from msp_pipeline.model import TenantSnapshot
from msp_pipeline.rules import Quirks

COMPARISON_IGNORE_ENV = "COMPARISON_IGNORE"
DEFAULT_IGNORED_QUIRKS = "policy_gap_never_raised,license_waste_reads_stale_tag"
MAX_RECORDED_DIFFERENCES = 100


def ignored_quirks(env: Mapping[str, str]) -> frozenset[str]:
    """COMPARISON_IGNORE: comma list of quirk names (default: the two the plan expects);
    'none' or empty ignores nothing."""
    raw = env.get(COMPARISON_IGNORE_ENV, DEFAULT_IGNORED_QUIRKS).strip()
    if raw in ("", "none"):
        return frozenset()
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in Quirks.names()]
    if unknown:
        raise ConfigError(f"{COMPARISON_IGNORE_ENV}={raw!r} is not allowed: {unknown[0]!r} is not a quirk; "
                          f"use a comma list of {', '.join(Quirks.names())}, or none")
    return frozenset(names)


def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def comparison_record(result: ComparisonResult) -> dict[str, Any]:
    """What analysis_runs.comparison keeps: the counts, the differences (capped) and the
    counts per alert type."""
    differences = list(result.differences)
    return {
        "matched": result.matched, "mismatched": result.mismatched, "ignored": result.ignored,
        "differences": _json_ready(differences[:MAX_RECORDED_DIFFERENCES]),
        "differencesTotal": len(differences), "byType": _json_ready(result.by_type),
    }


class Comparison:
    """A comparison hook for one analysis: `hook` runs compare_analysis on the loaded
    snapshot and keeps the result; `report` sends a mismatch on."""

    def __init__(self, legacy_quirks: Quirks, ignored: frozenset[str]) -> None:
        self.legacy_quirks = legacy_quirks
        self.ignored = ignored
        self.result: ComparisonResult | None = None

    def hook(self, snapshot: TenantSnapshot, now: datetime) -> dict[str, Any]:
        self.result = compare_analysis(snapshot, now, self.legacy_quirks, self.ignored)
        return comparison_record(self.result)

    async def report(self, reporter: MismatchReporter, tenant_id: str, sync_id: str) -> bool:
        """Reports a mismatch (if any); True when there was one."""
        if self.result is None or not self.result.mismatched:
            return False
        outcome = reporter.report(tenant_id, sync_id, self.result)
        if inspect.isawaitable(outcome):
            await outcome
        return True
