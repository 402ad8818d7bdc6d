"""The comparison as a table (metric | path | statistic | base | head | ratio | 95 % CI | p |
runs | flags at | verdict) and as JSON for CI. "flags at" is the smallest ratio the row could
call a regression with these runs: what the comparison can see at best."""

from __future__ import annotations

import json
import math
from typing import Any

from rollout_bench.compare.releases import Comparison
from rollout_bench.compare.rows import ALPHA, Row

COLUMNS = ("metric", "path", "stat", "base", "head", "ratio", "95% CI", "p (1-sided)", "runs b/h", "flags at",
           "verdict")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _cells(row: Row) -> tuple[str, ...]:
    ci = "-" if row.ci_low is None or row.ci_high is None else f"[{row.ci_low:.3f}, {row.ci_high:.3f}]"
    p = "-" if row.p_value is None else f"{row.p_value:.3g}"
    return (row.metric, row.path, row.statistic, _number(row.base), _number(row.head), _number(row.ratio), ci, p,
            row.runs or "-", "-" if row.detectable is None else f">{row.detectable:.3g}", row.verdict)


def table(rows: list[Row]) -> str:
    shown = [r for r in rows if r.verdict != "no data" or r.runs]
    empty = sorted({f"{r.metric} {r.path}" for r in rows if r not in shown})
    lines = [COLUMNS] + [_cells(r) for r in shown]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.metric} {r.path} {r.statistic}: {r.note}" for r in rows if r.note and r.verdict != "no data"]
    if empty:
        out.append(f"no data (under 20 samples a run on a side, or none): {', '.join(empty)}")
    return "\n".join(out + (["notes:"] + notes if notes else []))


def render(comparison: Comparison) -> str:
    c = comparison
    title = (f"base {c.base.name} ({len(c.base.summaries)} runs)  ->  head {c.head.name} "
             f"({len(c.head.summaries)} runs); regression = ratio > {c.factor:g} and one-sided p below "
             f"{ALPHA:g} after Holm across the latency rows, against 'slower by at most x{math.sqrt(c.factor):.3f}'")
    lines = [title, table(c.rows)]
    lines += [f"context differs (refusing): {d}" for d in c.refusing]
    lines += [f"context differs: {d}" for d in c.other_differences]
    lines.append(f"{len(c.regressions)} regression(s)" if c.regressions else "no regression")
    return "\n".join(lines)


def as_json(comparison: Comparison) -> str:
    c = comparison
    document: dict[str, Any] = {
        "base": {"name": c.base.name, "path": str(c.base.directory), "runs": [s["run_id"] for s in c.base.summaries]},
        "head": {"name": c.head.name, "path": str(c.head.directory), "runs": [s["run_id"] for s in c.head.summaries]},
        "factor": c.factor, "alpha": ALPHA, "correction": "holm",
        "rows": [r.to_dict() for r in c.rows],
        "regressions": len(c.regressions),
        "context": {"refusing": c.refusing, "other": c.other_differences},
    }
    return json.dumps(document, indent=2)


__all__ = ["as_json", "regression_lines", "render", "table"]


def regression_lines(summary: dict[str, Any]) -> str:
    """What the verdict's "no regression vs the last release" gate stands on, row by row."""
    figures = summary.get("regression") or {}
    if figures.get("deferred"):
        return f"regression vs the last release: {figures['deferred']}"
    if not figures.get("baseline"):
        return f"regression vs the last release: INCONCLUSIVE: {figures.get('reason', 'no figures')}"
    rows = [Row(**row) for row in figures.get("rows", [])]
    alerts = figures.get("alert_counts", {})
    moved = "; ".join(f"{c['alert_type']} {c['base']:g} -> {c['head']}" for c in alerts.get("changes", []))
    if figures.get("head_runs") is None:  # compared with nothing: a disturbed run, say why
        return f"regression vs {figures['baseline']}: INCONCLUSIVE: {figures.get('reason')}"
    return "\n".join([f"regression vs {figures['baseline']} ({figures['baseline_runs']} runs) over "
                      f"{figures['head_runs']} head run(s): {figures.get('reason', '')}", table(rows),
                      f"alert counts per type: {alerts.get('types')} types, {alerts.get('moved')} moved > 10 %"
                      + (f" ({moved})" if moved else "")])
