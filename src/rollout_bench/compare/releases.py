"""Comparison across releases (asv style): a change is flagged only when the ratio
exceeds the factor AND a significance test says so — p99 by a bootstrap confidence
interval of the ratio, the distribution by Mann-Whitney U. Where the data cannot tell,
it says "not significant". Different contexts compare with a warning."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import mannwhitneyu

from rollout_bench.results.store import read_samples, read_summary

METRICS = ("job_latency_ms", "analysis_s", "queries_per_analysis")
CONTEXT_KEYS = (("machine", "hostname"), ("machine", "cpus"), ("stack",), ("profile",), ("week",))
MIN_SAMPLES = 20


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    path: str
    base_p99: float | None
    head_p99: float | None
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str  # 'regression' | 'improvement' | 'no change' | 'not significant' | 'no data'


def bootstrap_ratio_ci(base: np.ndarray, head: np.ndarray, *, resamples: int = 2000, level: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    b = np.percentile(rng.choice(base, (resamples, base.size)), 99, axis=1)
    h = np.percentile(rng.choice(head, (resamples, head.size)), 99, axis=1)
    ratios = h / np.maximum(b, 1e-12)
    tail = (1 - level) / 2
    return float(np.quantile(ratios, tail)), float(np.quantile(ratios, 1 - tail))


def compare_samples(metric: str, path: str, base: list[float], head: list[float], *, factor: float = 1.10,
                    alpha: float = 0.05) -> MetricComparison:
    if len(base) < MIN_SAMPLES or len(head) < MIN_SAMPLES:
        return MetricComparison(metric, path, None, None, None, None, None, None, "no data")
    b, h = np.asarray(base, dtype=float), np.asarray(head, dtype=float)
    base_p99, head_p99 = float(np.percentile(b, 99)), float(np.percentile(h, 99))
    ratio = head_p99 / base_p99 if base_p99 > 0 else (1.0 if head_p99 == 0 else float("inf"))
    low, high = bootstrap_ratio_ci(b, h)
    p_value = 1.0 if np.array_equal(np.sort(b), np.sort(h)) else float(mannwhitneyu(h, b).pvalue)
    significant = p_value < alpha
    if ratio > factor and low > 1.0 and significant:
        verdict = "regression"
    elif ratio < 1 / factor and high < 1.0 and significant:
        verdict = "improvement"
    elif ratio > factor or ratio < 1 / factor:
        verdict = "not significant"
    else:
        verdict = "no change"
    return MetricComparison(metric, path, base_p99, head_p99, ratio, low, high, p_value, verdict)


def context_warnings(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    warnings = []
    for keys in CONTEXT_KEYS:
        b, h = base, head
        for key in keys:
            b = b.get(key, {}) if isinstance(b, dict) else None
            h = h.get(key, {}) if isinstance(h, dict) else None
        if b != h:
            warnings.append(f"context differs: {'.'.join(keys)} {b!r} vs {h!r}")
    return warnings


def compare_runs(base_dir: Path, head_dir: Path, factor: float = 1.10) -> tuple[list[MetricComparison], list[str]]:
    base, head = read_samples(base_dir), read_samples(head_dir)
    rows = [compare_samples(metric, path, base.get(metric, {}).get(path, []), head.get(metric, {}).get(path, []),
                            factor=factor)
            for metric in METRICS for path in ("legacy", "unified")]
    return rows, context_warnings(read_summary(base_dir), read_summary(head_dir))


def render(rows: list[MetricComparison], warnings: list[str]) -> str:
    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.4g}"

    lines = [f"{'metric':<24}{'path':<9}{'base p99':>10}{'head p99':>10}{'ratio':>8}{'95% CI':>18}{'p':>9}  verdict"]
    for r in rows:
        ci = "-" if r.ci_low is None else f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
        lines.append(f"{r.metric:<24}{r.path:<9}{f(r.base_p99):>10}{f(r.head_p99):>10}{f(r.ratio):>8}{ci:>18}"
                     f"{f(r.p_value):>9}  {r.verdict}")
    return "\n".join(lines + [f"warning: {w}" for w in warnings])


def trend_plot(release_dirs: list[Path], out: Path) -> Path | None:
    """p99 job latency and analysis time of the new path over stored releases."""
    if not release_dirs:
        return None
    from rollout_bench.report.plots import pyplot

    plt = pyplot()
    names = [d.name for d in release_dirs]
    summaries = [read_summary(d) for d in release_dirs]
    fig, ax = plt.subplots(figsize=(8, 4))
    for metric, label in (("job_latency_ms", "job latency p99, ms"), ("analysis_s", "analysis p95, s")):
        key = "p99" if metric == "job_latency_ms" else "p95"
        ax.plot(names, [s["metrics"][metric]["unified"].get(key) or 0 for s in summaries], marker="o", label=label)
    ax.set_yscale("log")
    ax.set_title("New path over releases")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
