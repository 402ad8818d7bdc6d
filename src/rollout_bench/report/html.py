"""report.html: one self-contained file per run (plots embedded, no external asset), read
offline or as a CI artifact: the verdict and key figures, the gates with their evidence,
plots, a per-tenant table, the week-1 comparison, the benchmarks and the run's context
(secrets redacted).
The PNGs are also written beside it."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rollout_bench.judge.gates import Gate
from rollout_bench.report import plots
from rollout_bench.report.benchmarks import benchmarks_section
from rollout_bench.report.capacity import capacity_section
from rollout_bench.report.sections import (
    comparison_section,
    context_table,
    esc,
    gates_table,
    headline,
    tenants_table,
)

_VERDICT_COLOURS = {"PROMOTE": "#1a7f37", "HOLD": "#9a6700", "ROLLBACK": "#cf222e", "INCONCLUSIVE": "#6e7781"}
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:78em;color:#1f2328;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
td,th{border:1px solid #d0d7de;padding:3px 7px;font-size:.9em;text-align:left;vertical-align:top}
table{border-collapse:collapse;margin:.5em 0} th{background:#f6f8fa;cursor:default}
tr.fail td{background:#ffebe9} tr.inconclusive td{background:#f6f8fa} tr.error td{background:#fff8c5}
tr.na td{color:#8c959f} td.note{font-size:.8em;color:#57606a;max-width:30em}
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6em .9em;min-width:13em;background:#fff}
.card.pass{border-left:5px solid #1a7f37} .card.fail{border-left:5px solid #cf222e}
.card.inconclusive{border-left:5px solid #8c959f}
.card-title{font-size:.8em;color:#57606a} .card-value{font-size:1.4em;font-weight:600}
.card-detail{font-size:.75em;color:#57606a} img{max-width:100%;border:1px solid #eaeef2}
figure{margin:1em 0} figcaption{font-size:.85em;color:#57606a}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.8em}
"""
_SORT_SCRIPT = """
function sortBy(th){const t=th.closest('table'),i=[...th.parentNode.children].indexOf(th),
b=t.tBodies[0],rows=[...b.rows],asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort((x,y)=>{const a=x.cells[i].innerText,c=y.cells[i].innerText,na=parseFloat(a),nc=parseFloat(c);
const r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);return asc?r:-r});rows.forEach(r=>b.appendChild(r));}
"""
SECTIONS = ("headline", "gates", "plots", "tenants", "comparison", "capacity", "benchmarks", "context")


def _gate_target(gates: Sequence[Gate], left: str) -> float | None:
    for gate in gates:
        if gate.expression.left == left and gate.expression.right_path is None:
            return gate.expression.offset
    return None


def _embedded(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _figure(anchor: str, path: Path, caption: str) -> str:
    return (f"<figure id='{anchor}'><img src='{_embedded(path)}' alt='{esc(path.stem)}'>"
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def draw_plots(out: Path, summary: Mapping[str, Any], samples: Mapping[str, Any], gates: Sequence[Gate],
               baseline: Mapping[str, Sequence[float]] | None = None) -> list[tuple[str, Path, str]]:
    latency_target = _gate_target(gates, "metrics.job_latency_ms.unified.p99")
    return [
        ("plot-latency", plots.percentile_distribution(out / "job_latency.png", samples["job_latency_ms"],
                                                       latency_target, baseline),
         "Job latency at each percentile (the tail on a 'nines' axis), per path; dotted: the baseline release."),
        ("plot-time", plots.over_time(out / "over_time.png", samples.get("job_starts", {}), summary.get("series", {}),
                                      summary.get("phases", {}), latency_target),
         "p50 / p99 latency per path in 5 s windows, job starts per second and queue depth per path; "
         "the shaded tail is the drain after the load stopped."),
        ("plot-queries", plots.by_size(out / "queries_vs_size.png", samples["queries_vs_size"],
                                       _gate_target(gates, "metrics.queries_per_analysis.unified.max"),
                                       "SQL statements per analysis", "Queries per analysis against tenant size",
                                       "new path target < 10"),
         "Statements per analysis against tenant size: legacy grows with the tenant (N+1), the new path stays flat."),
        ("plot-analysis", plots.by_size(out / "analysis_vs_size.png", samples.get("analysis_s_vs_size", {}),
                                        _gate_target(gates, "metrics.analysis_s.unified.p95"),
                                        "analysis time, s (last linked event -> alerts committed)",
                                        "Analysis time against tenant size", "target < 60 s"),
         "Analysis time per analysis against tenant size, per path."),
    ]


def write_report(out: Path, summary: dict[str, Any], samples: dict[str, Any], gates: list[Gate],
                 baseline: Mapping[str, Sequence[float]] | None = None) -> Path:
    figures = "".join(_figure(a, p, c) for a, p, c in draw_plots(out, summary, samples, gates, baseline))
    capacity_text, capacity_plots = capacity_section(out, summary)
    capacity = capacity_text + "".join(_figure(a, p, c) for a, p, c in capacity_plots)
    reasons = "".join(f"<li>{esc(r)}</li>" for r in summary["reasons"])
    colour = _VERDICT_COLOURS.get(summary["verdict"], "#000")
    links = [("summary.json", "summary.json"), ("junit.xml", "junit.xml"), ("raw samples", "samples.json.gz"),
             ("HDR histograms", "histograms.json"), ("Locust log", "locust.log"), ("pipeline logs", "logs/")]
    body = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Rollout gate week {summary['week']}: {esc(summary['verdict'])} ({esc(summary['run_id'])})</title>
<style>{_STYLE}</style><script>{_SORT_SCRIPT}</script></head><body>
<section id="headline"><h1>Week {summary['week']}: <span style="color:{colour}">{esc(summary['verdict'])}</span></h1>
<p>{esc(summary.get('week_title', ''))} &mdash; profile {esc(summary['profile'])}, stack {esc(summary['stack'])},
release {esc(summary['release'])}</p><ul>{reasons}</ul>{headline(summary)}</section>
<section id="gates"><h2>Gates</h2>{gates_table(summary)}</section>
<section id="plots"><h2>Plots</h2>{figures}</section>
<section id="tenants"><h2>Per tenant</h2>{tenants_table(summary.get('tenants', []))}</section>
<section id="comparison"><h2>Comparison mode (week 1)</h2>
{comparison_section(summary.get('comparison', {}), summary['week'])}</section>
<section id="capacity"><h2>Capacity and headroom</h2>{capacity}</section>
<section id="benchmarks"><h2>Benchmarks</h2>{benchmarks_section(out, summary)}</section>
<section id="context"><h2>Context</h2>{context_table(summary, links)}</section>
</body></html>"""
    path = out / "report.html"
    path.write_text(body)
    return path
