"""report.html: verdict, gate table, plots, the run's context (secrets redacted)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rollout_bench.judge.gates import Gate
from rollout_bench.report import plots

_VERDICT_COLOURS = {"PROMOTE": "#1a7f37", "HOLD": "#9a6700", "ROLLBACK": "#cf222e", "INCONCLUSIVE": "#6e7781"}


def _gate_bound(gates: list[Gate], left: str) -> float | None:
    for gate in gates:
        if gate.expression.left == left and gate.expression.right_path is None:
            return gate.expression.offset
    return None


def write_report(out: Path, summary: dict[str, Any], samples: dict[str, Any], gates: list[Gate]) -> Path:
    images = [
        plots.latency_distribution(out / "job_latency.png", samples["job_latency_ms"],
                                   _gate_bound(gates, "metrics.job_latency_ms.unified.p99")),
        plots.queries_vs_size(out / "queries_vs_size.png", samples["queries_vs_size"],
                              _gate_bound(gates, "metrics.queries_per_analysis.unified.max")),
        plots.throughput_and_depth(out / "throughput_queue_depth.png", summary.get("series", {})),
    ]
    rows = "".join(
        f"<tr class='{g['result'].replace('/', '')}'><td>{html.escape(g['name'])}</td><td>{html.escape(str(g['target']))}</td>"
        f"<td>{html.escape(str(g['observed']))}</td><td>{html.escape(str(g.get('bound')))}</td>"
        f"<td>{html.escape(str(g['samples']))}</td><td>{g['result'].upper()}</td>"
        f"<td>{html.escape(str(g.get('note', '')))}</td></tr>" for g in summary["gates"])
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in summary["reasons"])
    context = {k: summary[k] for k in ("run_id", "release", "git_sha", "week", "week_title", "profile", "stack",
                                        "machine", "flags", "settings_shortened", "seed", "started_at",
                                        "duration_s", "libraries") if k in summary}
    figures = {k: summary[k] for k in ("jobs", "accuracy", "accuracy_by_path", "comparison", "cohort",
                                        "queries_check", "legacy_touch", "isolation", "syncs", "load", "clock",
                                        "cpu", "logs", "infrastructure") if k in summary}
    colour = _VERDICT_COLOURS.get(summary["verdict"], "#000")
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>Rollout gate {html.escape(summary['run_id'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} td,th{{border:1px solid #ccc;padding:4px 8px}}
table{{border-collapse:collapse}} tr.fail td{{background:#ffebe9}} tr.inconclusive td{{background:#f6f8fa}} tr.error td{{background:#fff8c5}} tr.na td{{color:#888}}
pre{{background:#f6f8fa;padding:1em;overflow:auto}}</style></head><body>
<h1>Week {summary['week']}: <span style="color:{colour}">{summary['verdict']}</span></h1>
<p>{html.escape(str(summary.get('week_title', '')))} &mdash; profile {html.escape(summary['profile'])},
stack {html.escape(summary['stack'])}, release {html.escape(summary['release'])}</p>
<ul>{reasons}</ul>
<h2>Gates</h2><table><tr><th>gate</th><th>target</th><th>observed</th><th>95 % bound</th><th>samples</th>
<th>result</th><th>evidence</th></tr>{rows}</table>
<h2>Metrics</h2><pre>{html.escape(json.dumps(summary['metrics'], indent=2))}</pre>
{''.join(f'<h2>{html.escape(p.stem.replace("_", " "))}</h2><img src="{p.name}" alt="{p.stem}">' for p in images)}
<h2>Jobs, accuracy, comparison, cohort</h2><pre>{html.escape(json.dumps(figures, indent=2))}</pre>
<h2>Context</h2><pre>{html.escape(json.dumps(context, indent=2))}</pre>
</body></html>"""
    path = out / "report.html"
    path.write_text(body)
    return path
