"""The rows of one comparison: latency rows tested run-level (statistics.py) with Holm's
correction across all of them, count rows compared exactly.

Latency rows: job latency p50 and p99, analysis time p50 and p95 (the quantiles the gates
use), per path. Count rows: queries per analysis (median and max of each run); counts are
deterministic for a seed, so any change is reported, and a head above every base run's
value is a regression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rollout_bench.compare.statistics import RunFigure, compare_figures, holm, run_figures

PATHS = ("legacy", "unified")
LATENCY_ROWS = (("job_latency_ms", "p50", 0.50), ("job_latency_ms", "p99", 0.99),
                ("analysis_s", "p50", 0.50), ("analysis_s", "p95", 0.95))
COUNT_ROWS = (("queries_per_analysis", "median"), ("queries_per_analysis", "max"))
DEFAULT_FACTOR = 1.10
ALPHA = 0.01  # family-wise, across the latency rows (Holm): at most 1 % false alarms
RunSamples = Mapping[str, Mapping[str, Sequence[float]]]  # metric -> path -> raw samples


@dataclass(frozen=True)
class Row:
    metric: str
    path: str
    statistic: str
    base: float | None  # geometric mean of the base runs' statistic (counts: the largest base run's)
    head: float | None
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # one-sided p of "the head is slower", before Holm
    verdict: str  # regression | improvement | no change | not significant | changed | no data
    runs: str = ""  # "base runs/head runs"
    note: str = ""
    detectable: float | None = None  # the smallest ratio this row could flag (Holm's first step)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figures(runs: Sequence[RunSamples], metric: str, path: str) -> list[dict[float, RunFigure]]:
    """Per run with enough samples: quantile -> its figure, for every quantile of the metric."""
    quantiles = [q for m, _, q in LATENCY_ROWS if m == metric]
    out = []
    for number, samples in enumerate(runs):
        figures = run_figures(samples.get(metric, {}).get(path, []), quantiles, seed=number)
        if figures is not None:
            out.append(dict(zip(quantiles, figures)))
    return out


def latency_rows(base: Sequence[RunSamples], head: Sequence[RunSamples], factor: float = DEFAULT_FACTOR,
                 alpha: float = ALPHA, spread: Sequence[Sequence[RunSamples]] = ()) -> list[Row]:
    pending: list[tuple[str, str, str, float | None, Any]] = []
    for metric in dict.fromkeys(m for m, _, _ in LATENCY_ROWS):
        for path in PATHS:
            b, h = _figures(base, metric, path), _figures(head, metric, path)
            extra = [_figures(group, metric, path) for group in spread]
            for _, statistic, quantile in (row for row in LATENCY_ROWS if row[0] == metric):
                others = [[f[quantile] for f in group] for group in extra]
                test = (compare_figures([f[quantile] for f in b], [f[quantile] for f in h], others,
                                        margin=math.sqrt(factor)) if b and h else None)
                base_value = float(np.exp(np.mean([f[quantile].log_quantile for f in b]))) if b else None
                pending.append((metric, path, statistic, base_value, test))
    tested = [test for *_, test in pending if test is not None]
    slower = iter(holm([t.p_regression for t in tested], alpha))
    faster = iter(holm([t.p_improvement for t in tested], alpha))
    rows = []
    for metric, path, statistic, base_value, test in pending:
        if test is None:
            rows.append(Row(metric, path, statistic, None, None, None, None, None, None, "no data",
                            note="fewer than 20 samples in every run of one side"))
            continue
        is_slower, is_faster = next(slower), next(faster)
        if test.ratio > factor and is_slower:
            verdict = "regression"
        elif test.ratio < 1 / factor and is_faster:
            verdict = "improvement"
        elif test.ratio > factor or test.ratio < 1 / factor:
            verdict = "not significant"
        else:
            verdict = "no change"
        note = "" if test.spread_known else "one run each side: run-to-run spread unknown, interval is within-run"
        rows.append(Row(metric, path, statistic, base_value, base_value * test.ratio if base_value else None,
                        test.ratio, test.ci_low, test.ci_high, test.p_regression, verdict,
                        f"{test.base_runs}/{test.head_runs}", note,
                        max(factor, test.smallest_flagged(alpha / len(tested)))))
    return rows


def _count_statistic(values: Sequence[float], statistic: str) -> float | None:
    if not values:
        return None
    return float(np.median(values)) if statistic == "median" else float(max(values))


def count_rows(base: Sequence[RunSamples], head: Sequence[RunSamples]) -> list[Row]:
    rows = []
    for path in PATHS:
        for metric, statistic in COUNT_ROWS:
            b = [v for v in (_count_statistic(r.get(metric, {}).get(path, []), statistic) for r in base)
                 if v is not None]
            h = [v for v in (_count_statistic(r.get(metric, {}).get(path, []), statistic) for r in head)
                 if v is not None]
            if not b or not h:
                rows.append(Row(metric, path, statistic, None, None, None, None, None, None, "no data"))
                continue
            base_high, head_high = max(b), max(h)
            ratio = head_high / base_high if base_high else (1.0 if head_high == 0 else None)
            if head_high > base_high:
                verdict = "regression"
            elif set(h) != set(b) and head_high < min(b):
                verdict = "improvement"
            elif sorted(set(h)) != sorted(set(b)):
                verdict = "changed"
            else:
                verdict = "no change"
            note = "" if verdict == "no change" else f"exact: base runs {sorted(b)}, head runs {sorted(h)}"
            rows.append(Row(metric, path, statistic, base_high, head_high, ratio, None, None, None, verdict,
                            f"{len(b)}/{len(h)}", note))
    return rows


def compare_runs(base: Sequence[RunSamples], head: Sequence[RunSamples], factor: float = DEFAULT_FACTOR,
                 alpha: float = ALPHA, spread: Sequence[Sequence[RunSamples]] = ()) -> list[Row]:
    """Every row of one comparison of base runs with head runs; `spread`: the runs of other
    stored releases of the same context (what they add of the run-to-run spread)."""
    return latency_rows(base, head, factor, alpha, spread) + count_rows(base, head)


def flagged(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.verdict == "regression"]


__all__ = ["ALPHA", "DEFAULT_FACTOR", "LATENCY_ROWS", "Row", "compare_runs", "count_rows", "flagged",
           "latency_rows"]
