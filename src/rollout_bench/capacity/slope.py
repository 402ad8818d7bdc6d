"""Is a backlog growing over a step's hold? The test the capacity search applies to the queue
depth and to the age of the oldest waiting job, each sampled about once a second.

The rule, for a series y sampled at times t over a hold of `hold_s` seconds:

- b = the least-squares slope of y on t (per second); growth = b * hold_s.
- Growing when BOTH
  1. statistically, b > 0 by a one-sided test at level `alpha`, taken two ways at alpha / 2
     each (Bonferroni, so the pair keeps alpha), one for each error model a queue follows:
     a. a stationary queue (its depth wanders around a level, neighbouring samples alike):
        the least-squares standard error widened for the residuals' lag-1 autocorrelation r
        (bias-corrected r + (1 + 4 r) / n, at most 0.99) by sqrt((1 + r) / (1 - r)), and a t
        test with the effective sample size n (1 - r) / (1 + r) less 2 degrees of freedom
        (at least 1);
     b. an overloaded queue (a random walk with drift): the slope under random-walk errors,
        which is the mean step of the series, t-tested on its n - 1 steps;
  2. practically, growth exceeds `tolerance`: one latency target's worth (target seconds of
     age; target seconds of arrivals of depth). A long step can make a tiny slope
     significant; a backlog that gains less than one target per hold is keeping up.
- Fewer than `min_samples` samples: no evidence (`growing` is None), never "not growing".

Either model alone fails on the other's queue: residual autocorrelation near 1 (a random
walk) leaves test (a) almost no degrees of freedom, and a stationary queue's mean step is
tiny but not a test of its level. tests/unit/test_capacity_slope.py measures the pair by
simulation: false alarms at most alpha on stationary queues at utilisation 0.5-0.8, and an
overload of 1.2x detected within 30 s."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise

from scipy.stats import t as student_t

DEFAULT_ALPHA = 0.05
MIN_SAMPLES = 10
MAX_AUTOCORRELATION = 0.99


@dataclass(frozen=True)
class GrowthTest:
    samples: int
    slope_per_s: float | None
    growth: float | None  # slope * hold_s: what the fit says the backlog gained over the hold
    tolerance: float
    p_value: float | None  # Bonferroni: 2 * min(p_stationary, p_random_walk), at most 1
    p_stationary: float | None
    p_random_walk: float | None
    autocorrelation: float | None  # bias-corrected lag-1 autocorrelation of the residuals
    alpha: float
    growing: bool | None  # None: too few samples

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _one_sided_p(estimate: float, standard_error: float, degrees: float) -> float:
    if standard_error <= 0 or not math.isfinite(standard_error):
        return 0.0 if estimate > 0 else 1.0
    return float(student_t.sf(estimate / standard_error, degrees))


def _stationary_p(times: Sequence[float], values: Sequence[float], slope: float) -> tuple[float, float]:
    """(one-sided p of slope > 0 under AR(1) residuals, the corrected autocorrelation)."""
    n = len(values)
    mean_t, mean_y = sum(times) / n, sum(values) / n
    sxx = sum((t - mean_t) ** 2 for t in times)
    residuals = [y - mean_y - slope * (t - mean_t) for t, y in zip(times, values)]
    squares = sum(e * e for e in residuals)
    if squares == 0:
        return (0.0 if slope > 0 else 1.0), 0.0
    lag1 = sum(a * b for a, b in pairwise(residuals)) / squares
    r = min(MAX_AUTOCORRELATION, max(0.0, lag1 + (1 + 4 * lag1) / n))
    standard_error = math.sqrt(squares / (n - 2) / sxx) * math.sqrt((1 + r) / (1 - r))
    degrees = max(1.0, n * (1 - r) / (1 + r) - 2)
    return _one_sided_p(slope, standard_error, degrees), r


def _random_walk_p(values: Sequence[float]) -> float:
    steps = [b - a for a, b in pairwise(values)]
    m = len(steps)
    mean = sum(steps) / m
    spread = math.sqrt(sum((s - mean) ** 2 for s in steps) / (m - 1))
    return _one_sided_p(mean, spread / math.sqrt(m), m - 1)


def growth_test(times: Sequence[float], values: Sequence[float], hold_s: float, tolerance: float,
                alpha: float = DEFAULT_ALPHA, min_samples: int = MIN_SAMPLES) -> GrowthTest:
    """The rule above for one series; `times` in seconds (any origin), evenly or not."""
    if len(times) != len(values):
        raise ValueError(f"{len(times)} times but {len(values)} values")
    n = len(values)
    if n < max(3, min_samples):
        return GrowthTest(n, None, None, tolerance, None, None, None, None, alpha, None)
    mean_t, mean_y = sum(times) / n, sum(values) / n
    sxx = sum((t - mean_t) ** 2 for t in times)
    if sxx == 0:
        raise ValueError("the samples were all taken at one time")
    slope = sum((t - mean_t) * (y - mean_y) for t, y in zip(times, values)) / sxx
    p_stationary, r = _stationary_p(times, values, slope)
    p_walk = _random_walk_p(values)
    p_value = min(1.0, 2 * min(p_stationary, p_walk))
    growth = slope * hold_s
    return GrowthTest(n, slope, growth, tolerance, p_value, p_stationary, p_walk, r, alpha,
                      p_value < alpha and growth > tolerance)
