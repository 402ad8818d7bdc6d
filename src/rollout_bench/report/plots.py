"""PNG plots of a run (matplotlib, Agg backend chosen when a plot is drawn), one style:
labelled axes with units, one colour per path, gate targets as red dashed lines."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PATH_COLOURS = {"legacy": "tab:orange", "unified": "tab:blue"}
PATH_LABELS = {"legacy": "legacy", "unified": "new path"}
NINES = (0.5, 0.9, 0.99, 0.999, 0.9999)
WINDOW_S = 5.0


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (chosen here, not at import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
                         "axes.spines.right": False, "font.size": 9})
    return plt


def _save(fig: Any, plt: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _target(ax: Any, value: float | None, label: str, horizontal: bool = True) -> None:
    if value is None:
        return
    (ax.axhline if horizontal else ax.axvline)(value, color="red", linestyle="--", linewidth=1, label=label)


def percentile_distribution(path: Path, samples: Mapping[str, Sequence[float]], target_ms: float | None,
                            baseline: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Latency against percentile on a 'nines' axis (HDR style): the tail is as wide as the body."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, values in samples.items():
        _nines_line(ax, values, PATH_COLOURS.get(name), f"{PATH_LABELS.get(name, name)} (n={len(values)})", "-")
    for name, values in (baseline or {}).items():
        _nines_line(ax, values, PATH_COLOURS.get(name), f"{PATH_LABELS.get(name, name)}, baseline", ":")
    _target(ax, target_ms, f"target {target_ms:g} ms" if target_ms else "")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([1 / (1 - q) for q in NINES], [f"{q * 100:g}%" for q in NINES])
    ax.set_xlabel("percentile")
    ax.set_ylabel("job latency, ms (intended arrival -> job started)")
    ax.set_title("Job latency by percentile, per path")
    ax.legend(loc="upper left")
    return _save(fig, plt, path)


def _nines_line(ax: Any, values: Sequence[float], colour: str | None, label: str, style: str) -> None:
    ordered = sorted(v for v in values if v > 0)
    n = len(ordered)
    if n < 2:
        return
    xs = [1 / (1 - (i + 0.5) / n) for i in range(n)]
    ax.plot(xs, ordered, style, color=colour, label=label, linewidth=1.5)


def over_time(path: Path, job_starts: Mapping[str, Sequence[Sequence[float]]], series: Mapping[str, Any],
              phases: Mapping[str, float], target_ms: float | None) -> Path:
    """Latency p50/p99 per path, throughput and queue depth on one time axis (seconds from
    the load's start), the load and drain phases shaded."""
    plt = pyplot()
    fig, (lat, thr, depth) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    start = phases.get("load_start") or min((t for pairs in job_starts.values() for t, _ in pairs), default=0.0)
    for name, pairs in job_starts.items():
        windows: dict[int, list[float]] = {}
        for started, latency in pairs:
            windows.setdefault(int((started - start) // WINDOW_S), []).append(latency)
        keys = sorted(windows)
        for q, style in ((0.5, "-"), (0.99, "--")):
            values = [sorted(windows[k])[min(len(windows[k]) - 1, int(q * len(windows[k])))] for k in keys]
            lat.plot([k * WINDOW_S for k in keys], values, style, color=PATH_COLOURS.get(name),
                     label=f"{PATH_LABELS.get(name, name)} p{q * 100:g}")
    _target(lat, target_ms, f"target {target_ms:g} ms" if target_ms else "")
    lat.set_yscale("log")
    lat.set_ylabel(f"job latency, ms ({WINDOW_S:g} s windows)")
    lat.legend(loc="upper right", fontsize=7)
    throughput = series.get("throughput", {})
    offset = (min((t for pairs in job_starts.values() for t, _ in pairs), default=start) - start)
    thr.plot([t + offset for t in throughput.get("elapsed_s", [])], throughput.get("jobs_per_s", []),
             color="tab:green", label="jobs started / s")
    thr.set_ylabel("jobs started / s")
    queue = series.get("queue_depth", {})
    for name in ("unified", "legacy"):
        depth.plot(queue.get("elapsed_s", []), [max(0, v) for v in queue.get(name, [])],
                   color=PATH_COLOURS[name], label=PATH_LABELS[name])
    depth.set_ylabel("jobs waiting")
    depth.set_xlabel("seconds from the start of the load")
    depth.legend(loc="upper right", fontsize=7)
    for ax in (lat, thr, depth):
        _shade_phases(ax, phases, start)
    lat.set_title("Latency, throughput and queue depth over time")
    return _save(fig, plt, path)


def _shade_phases(ax: Any, phases: Mapping[str, float], start: float) -> None:
    end, drained = phases.get("load_end"), phases.get("drain_end")
    if end:
        ax.axvspan(0, end - start, color="tab:blue", alpha=0.04, label=None)
    if end and drained:
        ax.axvspan(end - start, drained - start, color="grey", alpha=0.12)
        ax.text(end - start, ax.get_ylim()[1], " drain", va="top", fontsize=7, color="grey")


def by_size(path: Path, points: Mapping[str, Sequence[Sequence[float]]], target: float | None, ylabel: str,
            title: str, target_label: str) -> Path:
    """A per-analysis figure against tenant size, both paths on linear axes (legacy's N+1 line
    against the new path's flat one)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, pairs in points.items():
        if pairs:
            ax.scatter([p[0] for p in pairs], [p[1] for p in pairs], s=14, alpha=0.6,
                       label=f"{PATH_LABELS.get(name, name)} (n={len(pairs)})", color=PATH_COLOURS.get(name))
    _target(ax, target, target_label)
    ax.set_xlabel("tenant size (identities)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    if any(points.values()):
        ax.legend()
    return _save(fig, plt, path)


def finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]
