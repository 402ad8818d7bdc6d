"""The USL fit, tested by simulation: capacities made from known coefficients, each seen
only through a bisection bracket as a real search leaves it (10 % wide at most, the true
capacity anywhere inside), must give back the coefficients within what such a bracket
allows, and the fit's own 5-95 % ranges must cover the truth about 90 % of the time.

The tolerance: the fit takes the bracket's geometric middle, so each log capacity is off by
at most half of log 1.1 and, with the truth anywhere in the bracket, by a standard deviation
of at most log(1.1) / sqrt(12) = 0.0275. Least squares on log throughput then has the
linearised standard errors sd * sqrt(diag((J'J)^-1)), J the model's Jacobian at the truth
for (log lambda, sigma, kappa). Every trial must land within 4 of those standard errors of
the truth (for a normal error, a miss in 1 of 16 000 trials per coefficient), computed for
each design: one standard error of sigma is 0.076 with three counts (1, 2, 4), 0.025 with
six (1, 2, 3, 4, 6, 8): three knees locate the curve, not its coefficients, and the report
says so with the fit's ranges."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from rollout_bench.capacity.usl import Observation, UslFit, fit_usl, peak, usl

BRACKET = 1.10  # the bisection stops when lowest unsustainable / highest sustainable <= 1.1
LOG_SD = math.log(BRACKET) / math.sqrt(12)


def bracket_of(true_jobs_per_s: float, rng: np.random.Generator) -> tuple[float, float]:
    """A bracket as the bisection ends it: between 5 % and 10 % wide, the truth anywhere inside."""
    ratio = BRACKET ** rng.uniform(0.5, 1.0)
    low = true_jobs_per_s / ratio ** rng.uniform(0.0, 1.0)
    return low, low * ratio


def simulate(lambda_: float, sigma: float, kappa: float, counts: Sequence[int], trials: int,
             seed: int = 1, draws: int = 60) -> list[UslFit]:
    rng = np.random.default_rng(seed)
    fits = []
    for trial in range(trials):
        observations = [Observation(n, *bracket_of(float(usl(np.asarray(float(n)), lambda_, sigma, kappa)), rng))
                        for n in counts]
        fits.append(fit_usl(observations, cpus=2, draws=draws, seed=trial))
    return fits


def standard_errors(sigma: float, kappa: float, counts: Sequence[int]) -> np.ndarray:
    """Linearised standard errors of (log lambda, sigma, kappa) for one capacity per count."""
    n = np.asarray(counts, dtype=float)
    denominator = 1 + sigma * (n - 1) + kappa * n * (n - 1)
    jacobian = np.column_stack([np.ones_like(n), -(n - 1) / denominator, -n * (n - 1) / denominator])
    return np.asarray(LOG_SD * np.sqrt(np.diag(np.linalg.inv(jacobian.T @ jacobian))))


@pytest.mark.parametrize("counts", [(1, 2, 4), (1, 2, 3, 4, 6, 8)])
def test_known_coefficients_come_back_within_what_a_10_percent_bracket_allows(counts: tuple[int, ...]) -> None:
    lambda_, sigma, kappa = 50.0, 0.05, 0.01
    fits = simulate(lambda_, sigma, kappa, counts, trials=25)
    se_log_lambda, se_sigma, se_kappa = standard_errors(sigma, kappa, counts)
    for fit in fits:
        assert fit.fitted and fit.lambda_jobs_per_s and fit.sigma is not None and fit.kappa is not None
        assert abs(math.log(fit.lambda_jobs_per_s / lambda_)) <= 4 * se_log_lambda
        assert abs(fit.sigma - sigma) <= 4 * se_sigma
        assert abs(fit.kappa - kappa) <= 4 * se_kappa
    # The 5-95 % ranges (refits with each capacity drawn within its bracket) are honest:
    # 25 trials at a true 90 % coverage fall below 18 covered with probability 0.9 %.
    for name, truth in (("sigma", sigma), ("kappa", kappa)):
        covered = sum(f.ranges[name][0] <= truth <= f.ranges[name][1] for f in fits)  # type: ignore[operator]
        assert covered >= 18, f"{name}: truth inside the 90 % range in {covered} of 25 trials"


def test_three_counts_know_sigma_less_well_than_six() -> None:
    """What the tolerance above says, seen in the fits: more counts, smaller errors."""
    three = simulate(50.0, 0.05, 0.01, (1, 2, 4), trials=25, draws=0)
    six = simulate(50.0, 0.05, 0.01, (1, 2, 3, 4, 6, 8), trials=25, draws=0)
    assert np.mean([abs(f.sigma - 0.05) for f in six]) < np.mean([abs(f.sigma - 0.05) for f in three])  # type: ignore[operator]


def test_linear_scaling_gives_no_contention_no_coherency_and_no_peak() -> None:
    exact = fit_usl([Observation(n, 40.0 * n, 40.0 * n * 1.05) for n in (1, 2, 4, 8)], cpus=2)
    assert exact.sigma == 0.0 and exact.kappa == 0.0
    assert exact.peak_workers is None and exact.peak_jobs_per_s is None
    assert exact.lambda_jobs_per_s == pytest.approx(40.0 * math.sqrt(1.05))
    assert "grows in proportion" in exact.sentence and "second worker adds +100%" in exact.sentence
    se = standard_errors(0.0, 0.0, (1, 2, 4, 8))
    for fit in simulate(40.0, 0.0, 0.0, (1, 2, 4, 8), trials=25, draws=0):
        assert fit.sigma is not None and fit.kappa is not None
        assert fit.sigma <= 4 * se[1] and fit.kappa <= 4 * se[2]
        assert fit.peak_workers is None or fit.peak_workers > 8  # any peak lies beyond what was measured


def test_a_retrograde_curve_gives_coherency_and_a_finite_peak() -> None:
    lambda_, sigma, kappa = 50.0, 0.1, 0.05
    true_peak = math.sqrt((1 - sigma) / kappa)  # 4.24 workers
    se = standard_errors(sigma, kappa, (1, 2, 4, 8))
    for fit in simulate(lambda_, sigma, kappa, (1, 2, 4, 8), trials=25, draws=0):
        assert fit.kappa is not None and fit.kappa > 0 and abs(fit.kappa - kappa) <= 4 * se[2]
        # N* = sqrt((1 - sigma) / kappa) moves by N* / (2 kappa) per unit of kappa: 0.22 workers
        # per standard error of kappa here, so 4 of them is about 1 worker.
        assert fit.peak_workers is not None and abs(fit.peak_workers - true_peak) < 1.0
        assert fit.peak_jobs_per_s == pytest.approx(float(fit.predict(fit.peak_workers)))
        assert fit.sentence.startswith(f"adding workers helps up to about {fit.peak_workers:.1f}")


def test_fewer_than_three_distinct_counts_is_no_fit_never_a_made_up_one() -> None:
    fit = fit_usl([Observation(1, 50, 55), Observation(1, 52, 57), Observation(2, 90, 99), Observation(2, 91, 100)])
    assert not fit.fitted and fit.sigma is None and fit.kappa is None and fit.peak_workers is None
    assert fit.reason == "a USL fit needs knees at 3 or more distinct worker counts; have N=1, N=2"
    with pytest.raises(ValueError, match="no USL fit"):
        fit.predict(2)
    assert not fit_usl([]).fitted


def test_peak_and_the_one_worker_case() -> None:
    assert peak(50.0, 0.0, 0.0) == (None, None)
    assert peak(50.0, 0.5, 0.0) == (None, 100.0)  # Amdahl: a ceiling at lambda / sigma, no peak
    workers, jobs = peak(50.0, 0.1, 0.05)
    assert workers == pytest.approx(math.sqrt(18)) and jobs == pytest.approx(float(usl(np.asarray(workers), 50, 0.1, 0.05)))
    flat = fit_usl([Observation(1, 50, 55), Observation(2, 45, 49.5), Observation(4, 30, 33)], cpus=2)
    assert flat.peak_workers is not None and flat.peak_workers < 1.5
    assert flat.sentence.startswith("adding workers does not help")
    assert "on this 2-core box the second worker adds -10% (measured)" in flat.sentence


def test_a_knee_without_ceiling_is_taken_as_is_and_the_fit_round_trips() -> None:
    observation = Observation(4, 120.0, None)
    assert observation.capacity == 120.0
    fit = fit_usl([Observation(1, 50, 55), Observation(2, 90, 99), observation], draws=20)
    assert fit.residuals[2]["observed_jobs_per_s"] == 120.0
    assert UslFit.from_dict(fit.to_dict()) == fit
