"""Distribution-free confidence bounds of a quantile, from order statistics.

For n independent samples, the number below the true q-quantile is Binomial(n, q). So the
k-th smallest sample (1-based) is an upper bound of the q-quantile with confidence
P(Binomial(n, q) <= k - 1), and the j-th smallest a lower bound with confidence
P(Binomial(n, q) >= j). A gate `pXX < target` passes only when the upper bound is below the
target, fails when the lower bound is at or above it, and is undecided otherwise.

With no sample above the target, a p99 needs n >= 299 to pass at 95 % (1 - 0.99^n >= 0.95):
the p99 of 50 samples is their maximum and proves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binom

CONFIDENCE = 0.95
_MAX_SEARCH = 10_000_000


@dataclass(frozen=True)
class QuantileBound:
    quantile: float
    n: int
    estimate: float | None  # the empirical quantile (nearest rank)
    lower: float | None  # None: too few samples for a lower bound at this confidence
    upper: float | None  # None: too few samples for an upper bound
    confidence: float = CONFIDENCE

    def to_dict(self) -> dict[str, float | int | None]:
        return {"quantile": self.quantile, "n": self.n, "estimate": self.estimate, "lower": self.lower,
                "upper": self.upper, "confidence": self.confidence}


def upper_rank(n: int, q: float, confidence: float = CONFIDENCE) -> int | None:
    """Smallest k (1-based) with P(Binomial(n, q) <= k - 1) >= confidence, or None if even
    the maximum is not enough."""
    if n <= 0:
        return None
    k = int(binom.ppf(confidence, n, q)) + 1
    while k > 1 and binom.cdf(k - 2, n, q) >= confidence:
        k -= 1
    while k <= n and binom.cdf(k - 1, n, q) < confidence:
        k += 1
    return k if k <= n else None


def lower_rank(n: int, q: float, confidence: float = CONFIDENCE) -> int | None:
    """Largest j (1-based) with P(Binomial(n, q) >= j) >= confidence, or None."""
    if n <= 0:
        return None
    j = int(binom.ppf(1 - confidence, n, q))
    while j < n and binom.sf(j, n, q) >= confidence:  # sf(j) = P(X >= j + 1)
        j += 1
    while j >= 1 and binom.sf(j - 1, n, q) < confidence:
        j -= 1
    return j if j >= 1 else None


def nearest_rank(values: Sequence[float], q: float, *, ordered: bool = False) -> float | None:
    """The empirical q-quantile by nearest rank (the ceil(q n)-th smallest); None for no value."""
    if not values:
        return None
    ranked = values if ordered else sorted(values)
    return ranked[min(len(ranked) - 1, max(0, math.ceil(q * len(ranked)) - 1))]


def quantile_bound(values: Sequence[float], q: float, confidence: float = CONFIDENCE) -> QuantileBound:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return QuantileBound(q, 0, None, None, None, confidence)
    estimate = nearest_rank(ordered, q, ordered=True)
    up, low = upper_rank(n, q, confidence), lower_rank(n, q, confidence)
    return QuantileBound(q, n, estimate, ordered[low - 1] if low else None, ordered[up - 1] if up else None,
                         confidence)


def samples_to_pass(values: Sequence[float], q: float, target: float, confidence: float = CONFIDENCE) -> int | None:
    """How many samples like these would make the upper bound fall below `target`: the
    smallest n whose upper rank stays within the share of samples seen below the target.
    None when the estimate itself is not below the target (more samples would not help)."""
    if not values:
        return None
    below = sum(1 for v in values if v < target) / len(values)
    if below <= q:
        return None
    n = max(1, len(values))
    while n <= _MAX_SEARCH:
        rank = upper_rank(n, q, confidence)
        if rank is not None and rank <= math.floor(below * n):
            return n
        n = n + 1 if n < 2_000 else int(n * 1.01)
    return None
