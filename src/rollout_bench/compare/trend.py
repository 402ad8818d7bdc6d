"""The trend plot over all stored releases: each run of a release is a dot (the run-to-run
spread), the releases' geometric means are joined by a line, and a step the test calls a
significant regression (rows.py, vs the release before) is marked with a red ring."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rollout_bench.compare.releases import ResultSet, consecutive, load

SERIES = (("job_latency_ms", "p99", 0.99, "job latency p99, ms"), ("job_latency_ms", "p50", 0.50,
          "job latency p50, ms"), ("analysis_s", "p95", 0.95, "analysis time p95, s"))
PATH = "unified"


def _per_run(result: ResultSet, metric: str, quantile: float) -> list[float]:
    out = []
    for samples in result.samples:
        values = [v for v in samples.get(metric, {}).get(PATH, []) if v > 0]
        if values:
            out.append(float(np.quantile(values, quantile)))
    return out


def trend_plot(release_dirs: Sequence[Path], out: Path) -> Path | None:
    if not release_dirs:
        return None
    from rollout_bench.report.plots import pyplot

    plt = pyplot()
    sets = [load(d) for d in release_dirs]
    steps = consecutive(release_dirs)
    fig, axes = plt.subplots(1, len(SERIES), figsize=(4 * len(SERIES), 3.6))
    for ax, (metric, statistic, quantile, label) in zip(axes, SERIES):
        means = []
        for x, result in enumerate(sets):
            values = _per_run(result, metric, quantile)
            ax.scatter([x] * len(values), values, s=14, color="tab:blue", alpha=0.7)
            means.append(float(np.exp(np.mean(np.log(values)))) if values else np.nan)
        ax.plot(range(len(sets)), means, color="tab:blue")
        for x, step in enumerate(steps, start=1):
            if any(r.metric == metric and r.statistic == statistic and r.path == PATH and r.verdict == "regression"
                   for r in step.rows):
                ax.scatter([x], [means[x]], s=160, facecolors="none", edgecolors="red", linewidths=2)
        ax.set_xticks(range(len(sets)), [s.name for s in sets], rotation=30)
        if any(np.isfinite(means)):
            ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "no samples", transform=ax.transAxes, ha="center")
        ax.set_title(f"{label} (new path)", fontsize=9)
    fig.suptitle("Releases: dots are runs, a red ring a significant regression vs the release before", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


__all__ = ["trend_plot"]
