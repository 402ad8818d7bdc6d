"""capacity.png: the search's curve. Top: job latency p50 / p95 / p99 against the offered
rate, the p99 with its 95 % bounds, each path's target, the floor's p50 / p99 at the knee's
rate. Bottom: backlog growth over the hold (depth and age of the oldest waiting job) as a
multiple of its tolerance. Sustainable steps filled, unsustainable crossed, undecided
hollow; the knee a vertical line. Same style as report/plots.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rollout_bench.capacity.criteria import PATH_WORDS, SUSTAINABLE, UNSUSTAINABLE
from rollout_bench.capacity.result import CapacityResult, StepResult
from rollout_bench.report.plots import PATH_COLOURS, pyplot

QUANTILE_STYLES = {"p50": ":", "p95": "--", "p99": "-"}
VERDICT_MARKERS = {SUSTAINABLE: {"marker": "o"}, UNSUSTAINABLE: {"marker": "x", "s": 60}}
HOLLOW = {"marker": "o", "facecolors": "none"}
FLOOR_COLOUR = "tab:purple"


def _colour(path: str) -> str:
    return PATH_COLOURS.get(path, FLOOR_COLOUR)


def _mark(ax: Any, x: float, y: float | None, verdict: str, colour: str) -> None:
    if y is None:
        return
    style = VERDICT_MARKERS.get(verdict, HOLLOW)
    ax.scatter([x], [y], color=colour, zorder=3, **style)


def _latency_panel(ax: Any, result: CapacityResult, steps: list[StepResult]) -> None:
    paths = sorted({p for s in steps for p in s.job_latency_ms})
    for path in paths:
        colour = _colour(path)
        points = [(s.rate_syncs_per_s, s.job_latency_ms[path], s.verdict) for s in steps if path in s.job_latency_ms]
        for quantile, style in QUANTILE_STYLES.items():
            xs = [x for x, fig, _ in points if fig.get(quantile)]
            ys = [fig[quantile] for _, fig, _ in points if fig.get(quantile)]
            ax.plot(xs, ys, style, color=colour, linewidth=1.2, label=f"{PATH_WORDS.get(path, path)} {quantile}")
        for x, fig, verdict in points:
            bound = fig["bounds"]["p99"]
            if bound["lower"] is not None and bound["upper"] is not None and fig.get("p99"):
                ax.vlines(x, bound["lower"], bound["upper"], color=colour, linewidth=3, alpha=0.35)
            _mark(ax, x, fig.get("p99"), verdict, colour)
        target = result.criteria.get("latency_target_ms", {}).get(path)
        if target:
            ax.axhline(target, color="red", linestyle="--", linewidth=1,
                       label=f"target {PATH_WORDS.get(path, path)} {target:g} ms")
    floor = result.floor
    if floor and floor.get("p99"):
        ax.scatter([floor["rate_syncs_per_s"]] * 2, [floor.get("p50"), floor["p99"]], color=FLOOR_COLOUR,
                   marker="D", zorder=4, label="floor p50 / p99 (no-op worker)")
    ax.set_yscale("log")
    ax.set_ylabel("job latency, ms\n(intended arrival -> started)")
    ax.set_title(f"Capacity of {result.path} (week {result.week}, {result.workers} worker(s)): latency and backlog "
                 "against offered rate")
    ax.legend(loc="upper left", fontsize=7, ncol=2)


def _backlog_panel(ax: Any, steps: list[StepResult]) -> None:
    for path in sorted({p for s in steps for p in s.backlog.get("by_path", {})}):
        colour = _colour(path)
        for series, style in (("depth", "-"), ("age_s", "--")):
            xs, ys = [], []
            for step in steps:
                test = step.backlog["by_path"].get(path, {}).get(series)
                if test and test["growth"] is not None and test["tolerance"]:
                    xs.append(step.rate_syncs_per_s)
                    ys.append(test["growth"] / test["tolerance"])
                    _mark(ax, xs[-1], ys[-1], step.verdict, colour)
            name = "depth" if series == "depth" else "age of oldest waiting"
            ax.plot(xs, ys, style, color=colour, linewidth=1.2, label=f"{PATH_WORDS.get(path, path)} {name}")
    ax.axhline(1.0, color="red", linestyle="--", linewidth=1, label="tolerance (one latency target)")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_ylabel("backlog growth over the hold\n/ its tolerance")
    ax.legend(loc="upper left", fontsize=7)


def capacity_plot(path: Path, result: CapacityResult) -> Path:
    plt = pyplot()
    fig, (latency, backlog) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    steps = sorted(result.steps, key=lambda s: s.rate_syncs_per_s)
    _latency_panel(latency, result, steps)
    _backlog_panel(backlog, steps)
    if result.knee is not None:
        for ax in (latency, backlog):
            ax.axvline(result.knee.syncs_per_s, color="black", linestyle="-.", linewidth=1)
        latency.annotate(f"knee {result.knee.syncs_per_s:g} syncs/s", (result.knee.syncs_per_s, 1),
                         xycoords=("data", "axes fraction"), xytext=(4, -12), textcoords="offset points", fontsize=8)
    backlog.set_xscale("log", base=2)
    backlog.set_xlabel("offered rate, syncs/s (one sync = 5 jobs)")
    backlog.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
