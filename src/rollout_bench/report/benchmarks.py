"""The report's benchmarks section: the pytest-benchmark suites a run stored (`bench.json`,
the standard profile runs them) beside the latest stored release's of the same context,
with the comparison's median ratio and interval (reported, not judged: one session a side)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rollout_bench.compare.bench import bench_rows, read_bench
from rollout_bench.compare.figures import latest_release_of_context
from rollout_bench.report.sections import esc


def _ms(seconds: Any) -> str:
    return "-" if seconds is None else f"{float(seconds) * 1000:.3g} ms"


def benchmarks_section(out: Path, summary: Mapping[str, Any]) -> str:
    this_run = read_bench(out)
    if not this_run:
        return ("<p>No benchmark in this run (the standard profile runs the pytest-benchmark suites; "
                "<code>make bench</code> runs them alone).</p>")
    baseline = latest_release_of_context(summary)
    stored = read_bench(baseline.directory) if baseline else {}
    compared = {row.metric.removeprefix("bench "): row for row in bench_rows(stored, this_run)}
    lines = []
    for name, figures in sorted(this_run.items()):
        short = name.split("::")[-1]
        row = compared.get(short)
        versus = "-" if row is None or row.ratio is None else (
            f"x{row.ratio:.3g}" + (f" [{row.ci_low:.3g}, {row.ci_high:.3g}]" if row.ci_low is not None else ""))
        lines.append(f"<tr><td>{esc(short)}</td><td>{_ms(figures['median'])}</td><td>{esc(figures['rounds'])}</td>"
                     f"<td>{_ms(row.base if row else None)}</td><td>{esc(versus)}</td></tr>")
    against = f"release {esc(baseline.name)}" if baseline else "no stored release of this context"
    return (f"<p>Median round per benchmark, against {against} (reported, not judged).</p><table><thead><tr>"
            "<th>benchmark</th><th>median</th><th>rounds</th><th>stored release</th><th>ratio [95 %]</th>"
            f"</tr></thead><tbody>{''.join(lines)}</tbody></table>")


__all__ = ["benchmarks_section"]
