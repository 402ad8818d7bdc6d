"""Capacity across releases: one panel per path, week, workers and arrivals; per release
the knee (dot) with its interval as an error bar (bracket and repeats, several searches
pooled as in compare.py), joined by a line; a release the comparison calls a regression
against the one before is ringed red; the "10x production" gate as a dashed line."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from rollout_bench.capacity.compare import Key, capacity_rows, key_of, side_of
from rollout_bench.capacity.result import CapacityResult
from rollout_bench.compare.rows import DEFAULT_FACTOR

HEADROOM_GATE = 10.0  # the plan's "load testing validates 10x the current scale"
MAX_COLUMNS = 3


def _keys(releases: Sequence[tuple[str, Sequence[CapacityResult]]]) -> list[Key]:
    return sorted({key_of(r) for _, results in releases for r in results})


def _production_rate(releases: Sequence[tuple[str, Sequence[CapacityResult]]], key: Key) -> float | None:
    rates = [r.production.get("syncs_per_s") for _, results in releases for r in results if key_of(r) == key]
    known = [float(rate) for rate in rates if rate]
    return known[-1] if known else None


def capacity_trend_plot(releases: Sequence[tuple[str, Sequence[CapacityResult]]], out: Path,
                        factor: float = DEFAULT_FACTOR) -> Path | None:
    """`releases`: (name, its capacity results) in release order, all of one context (see
    stored.releases_like). None when there is nothing to draw."""
    keys = _keys(releases)
    if not keys:
        return None
    from rollout_bench.report.plots import pyplot

    plt = pyplot()
    columns = min(MAX_COLUMNS, len(keys))
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.6 * rows), squeeze=False)
    names = [name for name, _ in releases]
    for ax, key in zip(axes.flat, keys):
        of_key = [[r for r in results if key_of(r) == key] for _, results in releases]
        knees: list[float] = []
        xs: list[int] = []
        for x, results in enumerate(of_key):
            side = side_of(results)
            if side is None:
                continue
            if side.knee is None:  # below the first step: an upper bound only
                ax.scatter([x], [side.high], marker="v", color="tab:red", zorder=3, label="no knee: below this rate")
                continue
            high = side.high if side.high is not None else side.knee
            ax.errorbar([x], [side.knee], yerr=[[side.knee - side.low], [high - side.knee]], fmt="o",
                        color="tab:blue", capsize=4)
            if side.high is None:
                ax.annotate("never failed", (x, side.knee), textcoords="offset points", xytext=(4, 4), fontsize=7)
            knees.append(side.knee)
            xs.append(x)
        ax.plot(xs, knees, color="tab:blue", linewidth=1)
        for x, (before, after) in enumerate(pairwise(of_key), start=1):
            compared = capacity_rows(before, after, factor) if before and after else []
            if any(row.verdict == "regression" for row in compared):
                y = side_of(after)
                if y is not None:
                    ax.scatter([x], [y.knee if y.knee is not None else y.high], s=200, facecolors="none",
                               edgecolors="red", linewidths=2, zorder=4)
        production = _production_rate(releases, key)
        if production:
            ax.axhline(HEADROOM_GATE * production, color="red", linestyle="--", linewidth=1,
                       label=f"{HEADROOM_GATE:g}x production ({HEADROOM_GATE * production:.3g} syncs/s)")
        path, week, workers, arrivals = key
        ax.set_title(f"{path}, week {week}, {workers} worker(s), {arrivals}", fontsize=9)
        ax.set_xticks(range(len(names)), names, rotation=30)
        ax.set_ylabel("knee, syncs/s")
        ax.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        if handles:  # one entry per label (every release without a knee adds one)
            unique = dict(zip(labels, handles))
            ax.legend(unique.values(), unique.keys(), fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    title = (f"Capacity across releases: knee and its interval; a red ring a change beyond x{factor:g} with "
             "intervals apart")
    fig.suptitle(textwrap.fill(title, 55 * columns), fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


__all__ = ["HEADROOM_GATE", "capacity_trend_plot"]
