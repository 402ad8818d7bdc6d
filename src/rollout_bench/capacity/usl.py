"""The Universal Scalability Law fitted to the capacity found with N worker processes:

    X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))

lambda is one worker's throughput (jobs/s), sigma the contention (the share of work that
queues for something shared: 0 scales linearly, 1 not at all), kappa the coherency cost
(workers paying for each other: above 0 the curve peaks at N* = sqrt((1 - sigma) / kappa)
and falls after it).

Each count's capacity is only known to within its bracket (highest sustainable .. lowest
unsustainable arrival rate, 10 % wide after the bisection), so the fit takes the bracket's
geometric middle and reports, besides the point fit, the 5-95 % range of every coefficient
over refits with each capacity drawn anywhere in its bracket. The fit is by least squares
on log throughput (a 10 % bracket is the same relative error at every N), with sigma in
[0, 1], kappa >= 0 and lambda > 0. Fewer than three distinct worker counts cannot fix three
coefficients: the result then says so (`fitted` False) and gives no numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from rollout_bench.collect.bounds import nearest_rank

MIN_COUNTS = 3
DRAWS = 200  # refits with capacities drawn within their brackets (the coefficients' range)
NEGLIGIBLE = 1e-6  # a coefficient adding less than this to the denominator at the largest N is 0


@dataclass(frozen=True)
class Observation:
    """One count's capacity: the knee (highest sustainable, jobs/s) and the lowest
    unsustainable rate above it (None when the search never failed: a lower bound only)."""

    workers: int
    knee_jobs_per_s: float
    ceiling_jobs_per_s: float | None = None

    @property
    def capacity(self) -> float:
        """The bracket's geometric middle (the knee itself when there is no ceiling)."""
        if self.ceiling_jobs_per_s is None:
            return self.knee_jobs_per_s
        return math.sqrt(self.knee_jobs_per_s * self.ceiling_jobs_per_s)


@dataclass(frozen=True)
class UslFit:
    fitted: bool
    reason: str  # why there is no fit, or "" when there is one
    observations: list[Observation]
    lambda_jobs_per_s: float | None = None
    sigma: float | None = None
    kappa: float | None = None
    peak_workers: float | None = None  # N*; None: no peak (kappa 0, or no fit)
    peak_jobs_per_s: float | None = None  # X(N*), or lambda / sigma (the ceiling) when kappa is 0
    residuals: list[dict[str, float]] = field(default_factory=list)  # per observation: observed, predicted, log ratio
    ranges: dict[str, list[float | None]] = field(default_factory=dict)  # coefficient -> [5 %, 95 %] over draws
    sentence: str = ""

    def predict(self, workers: float | np.ndarray) -> Any:
        if not self.fitted or self.lambda_jobs_per_s is None or self.sigma is None or self.kappa is None:
            raise ValueError(f"no USL fit to predict from: {self.reason}")
        return usl(np.asarray(workers, dtype=float), self.lambda_jobs_per_s, self.sigma, self.kappa)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UslFit:
        return cls(**{**data, "observations": [Observation(**o) for o in data["observations"]]})


def usl(workers: np.ndarray, lambda_: float, sigma: float, kappa: float) -> np.ndarray:
    return lambda_ * workers / (1 + sigma * (workers - 1) + kappa * workers * (workers - 1))


def _least_squares(workers: np.ndarray, throughput: np.ndarray, start: Sequence[float]) -> np.ndarray:
    """(log lambda, sigma, kappa) minimising the squared log ratios, from one start."""
    def residuals(p: np.ndarray) -> np.ndarray:
        return np.asarray(np.log(usl(workers, math.exp(p[0]), p[1], p[2])) - np.log(throughput))

    def jacobian(p: np.ndarray) -> np.ndarray:
        denominator = 1 + p[1] * (workers - 1) + p[2] * workers * (workers - 1)
        return np.column_stack([np.ones_like(workers), -(workers - 1) / denominator,
                                -workers * (workers - 1) / denominator])

    solution = least_squares(residuals, np.asarray(start, dtype=float), jac=jacobian,
                             bounds=([-np.inf, 0.0, 0.0], [np.inf, 1.0, np.inf]), method="trf")
    return np.asarray(solution.x)


def _fit(workers: np.ndarray, throughput: np.ndarray, starts: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """The best of several starts (the log-ratio surface can have a shallow second valley)."""
    best, best_cost = None, math.inf
    for start in starts:
        p = _least_squares(workers, throughput, start)
        cost = float(np.sum((np.log(usl(workers, math.exp(p[0]), p[1], p[2])) - np.log(throughput)) ** 2))
        if cost < best_cost:
            best, best_cost = p, cost
    assert best is not None
    largest = float(workers.max())
    sigma = 0.0 if best[1] * (largest - 1) < NEGLIGIBLE else float(best[1])
    kappa = 0.0 if best[2] * largest * (largest - 1) < NEGLIGIBLE else float(best[2])
    return math.exp(float(best[0])), sigma, kappa


def peak(lambda_: float, sigma: float, kappa: float) -> tuple[float | None, float | None]:
    """(N*, throughput there); with kappa 0 no peak: N* None and the ceiling lambda / sigma
    (None as well when sigma is 0: linear scaling has no ceiling)."""
    if kappa <= 0:
        return None, (lambda_ / sigma if sigma > 0 else None)
    workers = math.sqrt((1 - sigma) / kappa)
    return workers, float(usl(np.asarray(workers), lambda_, sigma, kappa))


def _percentiles(values: Sequence[float | None]) -> list[float | None]:
    """5 % and 95 % (nearest rank); no peak (N* None) ranks as infinitely many workers and
    is shown as None."""
    ranked = sorted(math.inf if v is None else v for v in values)
    quantiles = (nearest_rank(ranked, q, ordered=True) for q in (0.05, 0.95))
    return [None if q is None or not math.isfinite(q) else float(q) for q in quantiles]


def _ranges(observations: Sequence[Observation], start: Sequence[float], draws: int,
            seed: int) -> dict[str, list[float | None]]:
    """Each capacity drawn log-uniformly within its bracket, refitted from the point fit."""
    rng = np.random.default_rng(seed)
    workers = np.array([o.workers for o in observations], dtype=float)
    low = np.log([o.knee_jobs_per_s for o in observations])
    high = np.log([o.ceiling_jobs_per_s or o.knee_jobs_per_s for o in observations])
    fits: dict[str, list[float | None]] = {"lambda_jobs_per_s": [], "sigma": [], "kappa": [], "peak_workers": []}
    for _ in range(draws):
        lambda_, sigma, kappa = _fit(workers, np.exp(rng.uniform(low, high)), [start])
        for name, value in zip(fits, (lambda_, sigma, kappa, peak(lambda_, sigma, kappa)[0])):
            fits[name].append(value)
    return {name: _percentiles(values) for name, values in fits.items()}


def fit_usl(observations: Sequence[Observation], cpus: int | None = None, draws: int = DRAWS,
            seed: int = 0) -> UslFit:
    """The USL through the capacities of at least three distinct worker counts."""
    usable = [o for o in observations if o.workers >= 1 and o.knee_jobs_per_s > 0]
    counts = sorted({o.workers for o in usable})
    if len(counts) < MIN_COUNTS:
        have = ", ".join(f"N={n}" for n in counts) or "none"
        return UslFit(False, f"a USL fit needs knees at {MIN_COUNTS} or more distinct worker counts; have {have}",
                      list(observations), sentence=f"no USL fit: knees at {len(counts)} worker count(s) ({have}), "
                                                   f"{MIN_COUNTS} needed")
    workers = np.array([o.workers for o in usable], dtype=float)
    throughput = np.array([o.capacity for o in usable])
    one = float(np.log(throughput[workers == workers.min()].mean() / workers.min()))
    lambda_, sigma, kappa = _fit(workers, throughput, [(one, s, k) for s in (0.0, 0.3) for k in (0.0, 0.05)])
    peak_workers, peak_jobs = peak(lambda_, sigma, kappa)
    predicted = usl(workers, lambda_, sigma, kappa)
    residuals = [{"workers": o.workers, "observed_jobs_per_s": o.capacity, "predicted_jobs_per_s": float(p),
                  "log_ratio": float(np.log(o.capacity / p))} for o, p in zip(usable, predicted)]
    ranges = _ranges(usable, (math.log(lambda_), sigma, kappa), draws, seed) if draws else {}
    fit = UslFit(True, "", list(observations), lambda_, sigma, kappa, peak_workers, peak_jobs, residuals, ranges)
    return UslFit(**{**asdict(fit), "observations": fit.observations, "sentence": sentence(fit, cpus)})


def _second_worker(fit: UslFit) -> str:
    """What going from 1 to 2 workers did: measured when both were, else predicted."""
    by_count: dict[int, list[float]] = {}
    for o in fit.observations:
        by_count.setdefault(o.workers, []).append(o.capacity)
    if 1 in by_count and 2 in by_count:
        gain = float(np.mean(by_count[2]) / np.mean(by_count[1]) - 1)
        return f"the second worker adds {gain:+.0%} (measured)"
    gain = float(fit.predict(2.0) / fit.predict(1.0) - 1)
    return f"the second worker would add {gain:+.0%} (predicted)"


def sentence(fit: UslFit, cpus: int | None = None) -> str:
    """One plain sentence for the report."""
    assert fit.sigma is not None and fit.kappa is not None and fit.lambda_jobs_per_s is not None
    box = f"on this {cpus}-core box " if cpus else "on this box "
    second = _second_worker(fit)
    coefficients = f"(contention sigma {fit.sigma:.3f}, coherency kappa {fit.kappa:.4f})"
    if fit.peak_workers is None:
        ceiling = (f"throughput levels off towards {fit.peak_jobs_per_s:.3g} jobs/s"
                   if fit.peak_jobs_per_s is not None else "throughput grows in proportion")
        return f"adding workers keeps helping in the range measured: {ceiling} {coefficients}; {box}{second}."
    if fit.peak_workers < 1.5:
        return (f"adding workers does not help: one worker is about the peak ({fit.peak_jobs_per_s:.3g} jobs/s) "
                f"{coefficients}; {box}{second}.")
    low, high = fit.ranges.get("peak_workers") or [None, None]
    known = f", 90 % range {low:.1f}-{'unbounded' if high is None else f'{high:.1f}'}" if low is not None else ""
    largest = max(o.workers for o in fit.observations)
    beyond = f", beyond the {largest} measured: an extrapolation" if fit.peak_workers > largest else ""
    return (f"adding workers helps up to about {fit.peak_workers:.1f} (peak {fit.peak_jobs_per_s:.3g} jobs/s{known}"
            f"{beyond}) {coefficients}; {box}{second}.")


__all__ = ["Observation", "UslFit", "fit_usl", "peak", "sentence", "usl"]
