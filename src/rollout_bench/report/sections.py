"""The sections of report.html, each a function from the summary to an HTML fragment:
headline cards, gates, per-tenant table, week-1 comparison, context."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

RESULT_CLASSES = {"pass": "pass", "fail": "fail", "inconclusive": "inconclusive", "n/a": "na", "error": "error"}
# which plot shows a gate's evidence, by the start of the path it names
EVIDENCE_PLOTS = (("metrics.job_latency_ms", "plot-latency"), ("metrics.analysis_s", "plot-analysis"),
                  ("metrics.queries_per_analysis", "plot-queries"), ("queries_check", "plot-queries"),
                  ("load.", "plot-time"), ("cpu.", "plot-time"), ("jobs.", "plot-time"),
                  ("accuracy", "tenants"), ("syncs.", "tenants"), ("comparison", "comparison"))


def esc(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _num(value: Any, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}{unit}"
    return f"{value}{unit}"


def _card(title: str, value: str, detail: str = "", tone: str = "") -> str:
    return (f"<div class='card {tone}'><div class='card-title'>{esc(title)}</div>"
            f"<div class='card-value'>{esc(value)}</div><div class='card-detail'>{esc(detail)}</div></div>")


def _gate(summary: Mapping[str, Any], prefix: str) -> Mapping[str, Any] | None:
    return next((g for g in summary.get("gates", []) if str(g.get("name", "")).startswith(prefix)), None)


def headline(summary: Mapping[str, Any]) -> str:
    metrics = summary["metrics"]
    cards = []
    for path in ("unified", "legacy"):
        latency = metrics["job_latency_ms"].get(path, {})
        if latency.get("count"):
            bound = (latency.get("bounds") or {}).get("p99", {}).get("upper")
            tone = ""
            gate = _gate(summary, "job latency, new path") if path == "unified" else None
            if gate:
                tone = RESULT_CLASSES.get(gate["result"], "")
            cards.append(_card(f"job latency p99, {'new path' if path == 'unified' else 'legacy'}",
                               _num(latency.get("p99"), " ms"),
                               f"95 % upper bound {_num(bound, ' ms')}, n={latency['count']}"
                               + (", target < 1000 ms" if path == "unified" else ""), tone))
    floor = (summary.get("floor") or {}).get("job_latency_ms") or {}
    if floor.get("count"):
        cards.append(_card("BullMQ floor (no-op worker)", f"{_num(floor.get('p50'), ' ms')} / {_num(floor.get('p99'), ' ms')}",
                           f"p50 / p99 of the queue alone on this Redis, n={floor['count']}: the rest is the pipeline's"))
    legacy = summary.get("legacy_baseline") or {}
    if legacy.get("jobs"):
        cards.append(_card("legacy against its baseline", f"mean {_num(legacy.get('mean_s'), ' s')}",
                           f"expected {_num(legacy.get('expected_mean_s'), ' s')} (half the {legacy['poll_interval_s']:g} s "
                           f"poll); p99 {_num(legacy.get('p99_s'), ' s')} vs limit {_num(legacy.get('p99_limit_s'), ' s')}"))
    analysis = metrics["analysis_s"].get("unified", {})
    if analysis.get("count"):
        cards.append(_card("analysis time p95, new path", _num(analysis.get("p95"), " s"),
                           f"n={analysis['count']}, target < 60 s"))
    queries = metrics["queries_per_analysis"]
    cost = (summary.get("comparison") or {}).get("cost") or {}
    reduction = cost.get("reduction")
    cards.append(_card("queries per analysis", f"{_num(queries['unified'].get('max'))} new / "
                       f"{_num(queries['legacy'].get('median'))} legacy",
                       f"reduction {reduction:.1%}" if isinstance(reduction, float) else "max new path, median legacy"))
    accuracy = summary.get("accuracy_by_path", {}).get("unified", {})
    cards.append(_card("accuracy, new path", f"{accuracy.get('found', 0)} / {accuracy.get('expected', 0)}",
                       f"missing {accuracy.get('missing', 0)}, extra {accuracy.get('extra', 0)}",
                       "fail" if accuracy.get("missing") or accuracy.get("extra") else "pass"))
    jobs = summary["jobs"]
    cards.append(_card("jobs lost", str(jobs.get("lost", 0)),
                       f"{jobs.get('enqueued', 0)} enqueued, {jobs.get('queued', 0)} still queued",
                       "fail" if jobs.get("lost") else "pass"))
    regression = summary.get("regression") or {}
    if regression:
        cards.append(_card("against the last release", str(regression.get("verdict", "-")),
                           str(regression.get("summary", regression.get("reason", "")))))
    capacity = summary.get("capacity") or {}
    if capacity:
        cards.append(_card("capacity headroom", _num(capacity.get("headroom"), "x"), "knee / production rate"))
    load = summary.get("load", {})
    production = load.get("production") or {}
    cards.append(_card("offered load", f"{_num((load.get('rate') or {}).get('syncs_per_s'))} syncs/s",
                       f"{_num(production.get('multiple'))}x production" if production else ""))
    return f"<div class='cards'>{''.join(cards)}</div>"


def _evidence_anchor(gate: Mapping[str, Any]) -> str:
    left = str(gate.get("metric", ""))
    for prefix, anchor in EVIDENCE_PLOTS:
        if left.startswith(prefix):
            return anchor
    return ""


def gates_table(summary: Mapping[str, Any]) -> str:
    rows = []
    for g in summary.get("gates", []):
        anchor = _evidence_anchor(g)
        name = esc(g["name"])
        link = f"<a href='#{anchor}'>{name}</a>" if anchor else name
        rows.append(f"<tr class='{RESULT_CLASSES.get(g['result'], '')}'><td>{link}</td><td>{esc(g['kind'])}</td>"
                    f"<td>{esc(g['target'])}</td><td>{esc(_num(g.get('observed')))}</td>"
                    f"<td>{esc(_num(g.get('bound')))}</td><td>{esc(g.get('samples'))}</td>"
                    f"<td>{esc(str(g['result']).upper())}</td><td class='note'>{esc(g.get('note', ''))}</td></tr>")
    head = ("<tr><th>gate</th><th>kind</th><th>target</th><th>estimate</th><th>95 % bound</th><th>samples</th>"
            "<th>result</th><th>evidence / why</th></tr>")
    return f"<table class='gates'>{head}{''.join(rows)}</table>"


def tenants_table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = [("tenant_id", "tenant"), ("identities", "identities"), ("path", "path"), ("jobs", "jobs"),
               ("job_latency_p50_ms", "p50 ms"), ("job_latency_p99_ms", "p99 ms"), ("analyses", "analyses"),
               ("expected", "expected"), ("found", "found"), ("missing", "missing"), ("extra", "extra"),
               ("mismatches", "mismatches")]
    head = "".join(f"<th onclick='sortBy(this)'>{esc(label)}</th>" for _, label in columns)
    body = "".join("<tr class='{}'>".format("fail" if r.get("missing") or r.get("extra") else "") +
                   "".join(f"<td>{esc(_num(r.get(key)) if isinstance(r.get(key), float) else r.get(key))}</td>"
                           for key, _ in columns) + "</tr>" for r in rows)
    return (f"<p>Worst p99 first; click a column to sort.</p><table id='tenant-table' class='tenants'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def comparison_section(comparison: Mapping[str, Any], week: int) -> str:
    if not comparison.get("analyses"):
        return f"<p>Comparison mode did not run in week {week} (it runs in week 1).</p>"
    parts = [f"<p>{comparison['analyses']} analyses compared: {comparison.get('matched', 0)} findings matched, "
             f"{comparison.get('mismatched', 0)} mismatched, {comparison.get('ignored', 0)} ignored by the declared "
             f"quirks, {comparison.get('raced', 0)} raced (data changed between the two reads).</p>"]
    by_type = comparison.get("by_type") or {}
    if by_type:
        rows = "".join(f"<tr><td>{esc(kind)}</td><td>{esc(v.get('legacy-only', 0))}</td>"
                       f"<td>{esc(v.get('unified-only', 0))}</td></tr>"
                       for kind, v in sorted(by_type.items()) if isinstance(v, Mapping))
        parts.append("<table><tr><th>alert type</th><th>legacy only</th><th>new path only</th></tr>"
                     f"{rows}</table>")
    ignored = comparison.get("ignored_by_rule") or {}
    if ignored:
        parts.append("<table><tr><th>ignore rule (declared quirk)</th><th>differences ignored</th></tr>" + "".join(
            f"<tr><td>{esc(rule)}</td><td>{esc(n)}</td></tr>" for rule, n in sorted(ignored.items())) + "</table>")
    examples = comparison.get("examples") or []
    if examples:
        parts.append("<h3>Examples</h3><pre>" + esc("\n".join(str(e) for e in examples[:8])) + "</pre>")
    changes = comparison.get("alert_changes") or {}
    if changes.get("legacy") or changes.get("unified"):
        rows = "".join(f"<tr><td>{esc(side)}</td><td>{esc(changes.get(side, {}).get('created'))}</td>"
                       f"<td>{esc(changes.get(side, {}).get('updated'))}</td>"
                       f"<td>{esc(changes.get(side, {}).get('resolved'))}</td></tr>" for side in ("legacy", "unified"))
        known = ", ".join(f"{k} {v}" for k, v in (changes.get("known") or {}).items()) or "none"
        parts.append("<h3>Intended alert changes</h3><table><tr><th>side</th><th>created</th><th>updated</th>"
                     f"<th>resolved</th></tr>{rows}</table><p>Known differences (legacy quirks): {esc(known)}</p>")
    cost = comparison.get("cost") or {}
    if cost:
        parts.append("<h3>Cost of both sides, per full tenant analysis</h3>" + _cost_table(cost))
    return "".join(parts)


def _cost_table(cost: Mapping[str, Any]) -> str:
    def cell(side: str, key: str, stat: str) -> str:
        value = (cost.get(side) or {}).get(key)
        return esc(_num(value.get(stat)) if isinstance(value, Mapping) else _num(value))

    rows = "".join(f"<tr><td>{'new path' if side == 'unified' else 'legacy'}</td>"
                   f"<td>{esc((cost.get(side) or {}).get('analyses'))}</td>"
                   f"<td>{cell(side, 'statements_per_full_analysis', 'median')}</td>"
                   f"<td>{cell(side, 'statements_per_full_analysis', 'max')}</td>"
                   f"<td>{cell(side, 'rows_read', 'median')}</td><td>{cell(side, 'seconds', 'median')}</td></tr>"
                   for side in ("legacy", "unified"))
    reduction = cost.get("reduction")
    words = f"reduction {reduction:.1%}" if isinstance(reduction, float) else "reduction not measured"
    return ("<table><tr><th>side</th><th>analyses</th><th>statements, median</th><th>statements, max</th>"
            f"<th>rows read, median</th><th>seconds, median</th></tr>{rows}</table><p>{esc(words)}</p>")


def context_table(summary: Mapping[str, Any], links: Sequence[tuple[str, str]]) -> str:
    machine = summary.get("machine", {})
    settings = summary.get("settings_shortened") or {}
    rows = [("release", summary.get("release")), ("commit", summary.get("git_sha")), ("run", summary.get("run_id")),
            ("started", summary.get("started_at")), ("duration", f"{summary.get('duration_s')} s"),
            ("machine", f"{machine.get('hostname')}: {machine.get('cpus')} x {machine.get('cpu_model')}, "
                        f"Python {machine.get('python')}"),
            ("stack", summary.get("stack")),
            ("servers", ", ".join(f"{k} {v}" for k, v in (summary.get("servers") or {}).items())),
            ("flags", ", ".join(f"{k}={v}" for k, v in (summary.get("flags") or {}).items())),
            ("settings shortened for the profile", ", ".join(f"{k}={v}" for k, v in settings.items()) or "none"),
            ("profile, seed", f"{summary.get('profile')}, seed {summary.get('seed')}"),
            ("libraries", ", ".join(f"{k} {v}" for k, v in (summary.get("libraries") or {}).items()))]
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    files = " &middot; ".join(f"<a href='{esc(href)}'>{esc(label)}</a>" for label, href in links)
    return f"<table class='context'>{body}</table><p>{files}</p>"
