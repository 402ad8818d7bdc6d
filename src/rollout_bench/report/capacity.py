"""The report's capacity section: the capacity search this run's headroom gate stands on
(the standard profile searches the week's mix first), its curve, and the knee across the
stored releases of the same context."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rollout_bench.capacity.describe import describe_result
from rollout_bench.capacity.stored import releases_like, results_in
from rollout_bench.capacity.trend import capacity_trend_plot
from rollout_bench.paths import results_dir
from rollout_bench.report.sections import esc

Figure = tuple[str, Path, str]  # anchor, PNG, caption


def capacity_section(out: Path, summary: Mapping[str, Any]) -> tuple[str, list[Figure]]:
    figures = summary.get("capacity") or {}
    if not figures.get("run_id"):
        why = figures.get("not_applicable") or figures.get("reason") or "no capacity search for this run"
        return f"<p>{esc(why)} (<code>make capacity</code> searches a path's knee on its own).</p>", []
    folder = results_dir() / "runs" / str(figures["run_id"])
    found = results_in(folder)
    if not found:
        return f"<p>capacity search {esc(figures['run_id'])}: its capacity.json is no longer in {esc(folder)}.</p>", []
    result = found[-1]
    text = (f"<p>{esc(describe_result(result))}. Headroom over production: "
            f"<b>{figures.get('headroom', 0):.3g}x</b> (the plan asks for 10x).</p>")
    plots: list[Figure] = []
    if (folder / "capacity.png").is_file():
        plots.append(("capacity-curve", folder / "capacity.png",
                      "Job latency percentiles (with their 95 % bounds) and backlog growth against the offered "
                      "rate; sustainable and unsustainable steps marked, the knee as a vertical line."))
    trend = capacity_trend_plot(releases_like(result), out / "capacity_trend.png")
    if trend is not None:
        plots.append(("capacity-trend", trend, "The knee across stored releases of this context, with its interval."))
    return text, plots


__all__ = ["capacity_section"]
