"""The terminal verdict table: gate | target | observed | 95 % bound | samples | result,
then the verdict and its reasons. A percentile gate shows its estimate and the bound that
decided it; an undecided one how many samples would decide it; an n/a one why."""

from __future__ import annotations

from collections.abc import Sequence

from rollout_bench.judge.gates import GateResult
from rollout_bench.judge.verdict import Verdict


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _result(r: GateResult) -> str:
    text = r.result.upper()
    if r.result == "inconclusive" and r.needed:
        text += f" (~{r.needed} samples needed)"
    elif r.result in ("n/a", "error", "inconclusive") and r.note:
        text += f" ({r.note[:70]})"
    return text


def render(results: Sequence[GateResult], verdict: Verdict) -> str:
    rows = [("gate", "target", "observed", "95% bound", "samples", "result")]
    rows += [(r.name, r.target, _cell(r.observed), _cell(r.bound), _cell(r.samples), _result(r)) for r in results]
    widths = [min(64, max(len(row[i]) for row in rows)) for i in range(len(rows[0]))]
    widths[-1] = max(len(row[-1]) for row in rows)
    lines = ["  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", f"VERDICT: {verdict.verdict}"] + [f"  - {reason}" for reason in verdict.reasons]
    return "\n".join(lines)
