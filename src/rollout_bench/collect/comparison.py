"""The summary figures of comparison mode (COMPARE_ANALYZERS=true), read from the
pipeline's own records: each compared analysis keeps in analysis_runs.comparison its
matches, mismatches (by alert type and direction), ignored differences (by rule), the
intended alert changes of both sides and the cost of both sides."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any

import psycopg

from rollout_bench.pipeline.wire import WARMUP_PATTERN
from rollout_bench.sql import load

SIDES = ("legacy", "unified")
CHANGE_KINDS = ("created", "updated", "resolved")
MAX_EXAMPLES = 10
Record = tuple[str, str, Mapping[str, Any]]  # (tenant id, sync id, comparison record)


def comparison_records(conn: psycopg.Connection[Any]) -> list[Record]:
    return [(tenant, sync, record) for tenant, sync, record in
            conn.execute(load("collect/comparison_runs"), {"warmup": WARMUP_PATTERN}) if record]


def _spread(values: list[float], digits: int = 4) -> dict[str, float | None]:
    if not values:
        return {"median": None, "max": None}
    return {"median": round(float(median(values)), digits), "max": round(float(max(values)), digits)}


def _examples(records: Iterable[Record]) -> list[dict[str, Any]]:
    """A few concrete differences: entity, alert type, and the severity each side found."""
    out: list[dict[str, Any]] = []
    for tenant, sync, record in records:
        paired: dict[tuple[str, str], dict[str, Any]] = {}
        for m in record.get("mismatches", []):
            example = paired.setdefault((m["entity"], m["alertType"]), {
                "tenant": tenant, "sync": sync, "entity": m["entity"], "alert_type": m["alertType"],
                "unified": None, "legacy": None})
            example["unified" if m["side"] == "unified-only" else "legacy"] = m["severity"]
        out += list(paired.values())
        if len(out) >= MAX_EXAMPLES:
            break
    return out[:MAX_EXAMPLES]


def _alert_changes(compared: list[Mapping[str, Any]]) -> dict[str, Any]:
    changes = [r.get("alertChanges", {}) for r in compared]
    known: Counter[str] = Counter()
    for c in changes:
        known.update(c.get("known", {}))
    return {**{side: {kind: sum(int(c.get(side, {}).get(kind, 0)) for c in changes) for kind in CHANGE_KINDS}
               for side in SIDES},
            "follows_findings": sum(int(c.get("followsFindings", 0)) for c in changes),
            "known": dict(sorted(known.items())),
            "mfa_resolve_bug": known.get("mfa_resolve_bug", 0),
            "mismatched": sum(int(c.get("mismatched", 0)) for c in changes)}


def _cost(compared: list[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    totals: dict[str, int] = {}
    for side in SIDES:
        costs = [r["cost"][side] for r in compared if side in r.get("cost", {})]
        totals[side] = sum(int(c["statements"]) for c in costs)
        out[side] = {"analyses": len(costs),
                     "statements_per_full_analysis": _spread([float(c["statements"]) for c in costs], 1),
                     "rows_read": _spread([float(c["rowsRead"]) for c in costs], 1),
                     "seconds": _spread([float(c["seconds"]) for c in costs])}
    out["reduction"] = round(1 - totals["unified"] / totals["legacy"], 4) if totals["legacy"] else None
    out["reduction_basis"] = "1 - unified/legacy statements, totals over the compared analyses"
    return out


def comparison_figures(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """JSON-ready figures of comparison mode for summary.json's `comparison` object."""
    return figures_of(comparison_records(conn))


def figures_of(records: list[Record]) -> dict[str, Any]:
    compared = [r for _, _, r in records if not r.get("raced")]
    by_type: dict[str, Counter[str]] = {}
    ignored_by_rule: Counter[str] = Counter()
    for record in compared:
        for alert_type, sides in record.get("mismatchedByType", {}).items():
            by_type.setdefault(alert_type, Counter()).update(sides)
        ignored_by_rule.update(record.get("ignoredByRule", {}))
    return {
        "analyses": len(records),
        "matched": sum(int(r.get("matched", 0)) for r in compared),
        "mismatched": sum(int(r.get("mismatched", 0)) for r in compared),
        "ignored": sum(int(r.get("ignored", 0)) for r in compared),
        "raced": len(records) - len(compared),
        "analyses_mismatched": sum(1 for r in compared if int(r.get("mismatched", 0))),
        "by_type": {t: {"legacy-only": c.get("legacy-only", 0), "unified-only": c.get("unified-only", 0)}
                    for t, c in sorted(by_type.items())},
        "ignored_by_rule": dict(sorted(ignored_by_rule.items())),
        "examples": _examples((t, s, r) for t, s, r in records if not r.get("raced")),
        "alert_changes": _alert_changes(compared),
        "cost": _cost(compared),
    }
