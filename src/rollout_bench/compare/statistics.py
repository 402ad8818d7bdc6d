"""The test behind every release comparison: runs, not jobs, are the unit of evidence.

For one latency row (a metric, a path and a quantile: the median or the quantile the gate
uses) each run gives one figure, theta = log(quantile of that run's samples). Its variance
has two parts:

* within a run: how much the quantile would move if the same run were measured again,
  estimated by a moving-block bootstrap of the run's samples in arrival order (blocks keep
  the correlation between jobs of one sync);
* between runs: tau^2, the spread of theta across the runs of one side beyond what the
  within-run part explains (method of moments, pooled over every side with >= 2 runs and
  over the other stored releases of the same context, each adding its runs - 1 degrees
  of freedom).

The difference of the mean thetas, head minus base, has variance
(v_head + tau^2) / m + (v_base + tau^2) / k for m head and k base runs, so a head of one run
is compared with the baseline's observed run-to-run noise. The test is one-sided, a Student
t with the between-run degrees of freedom (the spread is known from few runs;
Satterthwaite's larger df cried wolf in the calibration). The ratio is exp(difference): the
ratio of the geometric means of the runs' quantiles.

The test is against a minimum effect (`margin`, a ratio): its null is "the head is slower
by at most the margin", not "the head is not slower". The rows use the square root of the
factor, the midpoint in log terms between no change and the factor (1.049 for 1.10). A
true change within the margin is then flagged at most alpha of the time whatever the number
of runs: more runs sharpen the detection of a change beyond the factor without flagging
ever smaller ones. (With the plain null, ten runs a side flagged a planted 5 % slowdown in
8 % of the calibration's comparisons: the test was right that the head was slower, and the
ratio's own noise carried it past 1.10.)

A row is a regression only when the ratio exceeds the factor AND its p-value survives
Holm's step-down correction across every latency row of the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_SAMPLES = 20
BLOCK = 10
RESAMPLES = 200
LEVEL = 0.95


@dataclass(frozen=True)
class RunFigure:
    """One run's quantile (log) and the within-run variance of that log."""

    log_quantile: float
    within_variance: float
    samples: int


@dataclass(frozen=True)
class RowTest:
    ratio: float
    ci_low: float
    ci_high: float
    p_regression: float  # one-sided: the head is slower
    p_improvement: float  # one-sided: the head is faster
    base_runs: int
    head_runs: int
    between_sd: float  # tau, run-to-run spread of log quantile beyond within-run noise
    spread_known: bool  # False when no side had two runs: the interval is within-run only
    standard_error: float = 0.0  # of the log ratio
    df: float = math.inf
    margin: float = 1.0  # the null's largest slowdown (a ratio; 1: "not slower")

    def smallest_flagged(self, alpha: float) -> float:
        """The ratio this row needs to reach p < alpha: what it can see at best."""
        distribution = stats.norm if math.isinf(self.df) else stats.t(self.df)
        return self.margin * math.exp(float(distribution.ppf(1 - alpha)) * self.standard_error)


def _sorted_quantile(sorted_rows: np.ndarray, quantile: float) -> np.ndarray:
    """The linear-interpolation quantile of each row of an already sorted matrix."""
    n = sorted_rows.shape[-1]
    position = quantile * (n - 1)
    low = math.floor(position)
    high = min(low + 1, n - 1)
    weight = position - low
    return sorted_rows[..., low] * (1 - weight) + sorted_rows[..., high] * weight


def run_figures(values: Sequence[float], quantiles: Sequence[float], *, seed: int = 0,
                resamples: int = RESAMPLES, block: int = BLOCK) -> list[RunFigure] | None:
    """theta of one run for each quantile and its moving-block bootstrap variance (one set of
    resamples for all quantiles); None below MIN_SAMPLES positive samples."""
    data = np.asarray([v for v in values if v > 0], dtype=float)
    n = data.size
    if n < MIN_SAMPLES:
        return None
    logs = np.log(data)
    ordered = np.sort(logs)
    size = min(block, max(1, n // 5))
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - size + 1, size=(resamples, math.ceil(n / size)))
    index = (starts[:, :, None] + np.arange(size)[None, None, :]).reshape(resamples, -1)[:, :n]
    boot = np.sort(logs[index], axis=1)
    return [RunFigure(float(_sorted_quantile(ordered, q)), float(np.var(_sorted_quantile(boot, q), ddof=1)), n)
            for q in quantiles]


def run_figure(values: Sequence[float], quantile: float, *, seed: int = 0, resamples: int = RESAMPLES,
               block: int = BLOCK) -> RunFigure | None:
    figures = run_figures(values, [quantile], seed=seed, resamples=resamples, block=block)
    return None if figures is None else figures[0]


def compare_figures(base: Sequence[RunFigure], head: Sequence[RunFigure],
                    others: Sequence[Sequence[RunFigure]] = (), margin: float = 1.0) -> RowTest:
    """The run-level test of one row (see the module docstring). `others`: runs of other
    stored releases of the same context, which add what they know of the run-to-run
    spread (their own means do not enter the difference). `margin` (>= 1): p_regression
    tests "the head is slower by at most margin", p_improvement "faster by at most margin"."""
    k, m = len(base), len(head)
    if k == 0 or m == 0:
        raise ValueError("compare_figures needs at least one run on each side")
    if not margin >= 1.0:
        raise ValueError(f"margin {margin} is below 1: a margin is the largest change the null allows")
    base_theta = np.array([f.log_quantile for f in base])
    head_theta = np.array([f.log_quantile for f in head])
    v_base = float(np.mean([f.within_variance for f in base]))
    v_head = float(np.mean([f.within_variance for f in head]))
    squares, df_between = 0.0, 0
    groups = [base_theta, head_theta, *(np.array([f.log_quantile for f in g]) for g in others)]
    for thetas in groups:
        if thetas.size >= 2:
            squares += float(np.sum((thetas - thetas.mean()) ** 2))
            df_between += thetas.size - 1
    within_mean = float(np.mean([f.within_variance for g in (base, head, *others) for f in g if len(g) >= 2]
                                or [f.within_variance for f in (*base, *head)]))
    tau2 = max(0.0, squares / df_between - within_mean) if df_between else 0.0
    difference = float(head_theta.mean() - base_theta.mean())
    variance = (v_head + tau2) / m + (v_base + tau2) / k
    shift = math.log(margin)
    if variance <= 0:  # identical constant samples on every run: no noise at all
        ratio = math.exp(difference)
        return RowTest(ratio, ratio, ratio, 0.0 if difference > shift else 1.0,
                       0.0 if difference < -shift else 1.0, k, m, 0.0, df_between > 0, margin=margin)
    # Student t on the runs: tau^2 is known from df_between degrees of freedom only, and that
    # is what the test is allowed (Satterthwaite's larger df cried wolf in the calibration).
    df = float(df_between) if df_between else math.inf
    scale = math.sqrt(variance)
    distribution = stats.norm if math.isinf(df) else stats.t(df)
    half = float(distribution.ppf(0.5 + LEVEL / 2)) * scale
    return RowTest(math.exp(difference), math.exp(difference - half), math.exp(difference + half),
                   float(distribution.sf((difference - shift) / scale)),
                   float(distribution.cdf((difference + shift) / scale)), k, m, math.sqrt(tau2), df_between > 0,
                   scale, df, margin)


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected at family-wise level alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (monotone), comparable with alpha directly."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


__all__ = ["MIN_SAMPLES", "RowTest", "RunFigure", "compare_figures", "holm", "holm_adjusted", "run_figure",
           "run_figures"]
