"""PNG plots of a run (matplotlib, Agg backend chosen when a plot is drawn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PATH_COLOURS = {"legacy": "tab:orange", "unified": "tab:blue"}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (chosen here, not at import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def latency_distribution(path: Path, samples: dict[str, list[float]], gate_ms: float | None) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, values in samples.items():
        positive = sorted(v for v in values if v > 0)
        if positive:
            ax.hist(positive, bins=_log_bins(positive), alpha=0.6, label=f"{name} (n={len(positive)})",
                    color=PATH_COLOURS.get(name))
    if gate_ms:
        ax.axvline(gate_ms, color="red", linestyle="--", label=f"gate {gate_ms:g} ms")
    ax.set_xscale("log")
    ax.set_xlabel("job latency, ms (intended arrival -> job started)")
    ax.set_ylabel("jobs")
    ax.set_title("Job latency per path")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _log_bins(values: list[float]) -> list[float]:

    low, high = max(min(values), 0.01), max(values) * 1.01
    steps = 40
    ratio = (high / low) ** (1 / steps) if high > low else 1.1
    return [low * ratio**i for i in range(steps + 1)] if ratio > 1 else [low, high]


def queries_vs_size(path: Path, points: dict[str, list[list[float]]], gate: float | None) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, pairs in points.items():
        if pairs:
            ax.scatter([p[0] for p in pairs], [p[1] for p in pairs], s=14, alpha=0.6, label=name,
                       color=PATH_COLOURS.get(name))
    if gate:
        ax.axhline(gate, color="red", linestyle="--", label=f"gate < {gate:g}")
    ax.set_yscale("log")
    ax.set_xlabel("tenant size (identities)")
    ax.set_ylabel("SQL statements per analysis")
    ax.set_title("Queries per analysis against tenant size")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def throughput_and_depth(path: Path, series: dict[str, Any]) -> Path:
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=False)
    throughput = series.get("throughput", {})
    top.plot(throughput.get("elapsed_s", []), throughput.get("jobs_per_s", []), color="tab:green")
    top.set_ylabel("jobs started / s")
    top.set_title("Throughput and queue depth over time")
    depth = series.get("queue_depth", {})
    for name in ("unified", "legacy"):
        bottom.plot(depth.get("elapsed_s", []), depth.get(name, []), label=name, color=PATH_COLOURS[name])
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("jobs waiting")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
