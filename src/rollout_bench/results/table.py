"""The terminal verdict table: gate | target | observed | samples | result, then reasons."""

from __future__ import annotations

from rollout_bench.judge.gates import GateResult
from rollout_bench.judge.verdict import Verdict


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(results: list[GateResult], verdict: Verdict) -> str:
    rows = [("gate", "target", "observed", "samples", "result")]
    rows += [(r.name, r.target, _cell(r.observed), _cell(r.samples), r.result.upper()) for r in results]
    widths = [min(60, max(len(row[i]) for row in rows)) for i in range(5)]
    lines = ["  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", f"VERDICT: {verdict.verdict}"] + [f"  - {reason}" for reason in verdict.reasons]
    return "\n".join(lines)
