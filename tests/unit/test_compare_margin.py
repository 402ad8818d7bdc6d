"""The minimum-effect null of the run-level test (compare/statistics.py): a true change at
the margin is flagged at most alpha of the time, a change beyond the factor is seen, and a
margin of 1 is the plain one-sided test. (The rates on real stored runs are
test_compare_calibration.py's.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rollout_bench.compare.statistics import RunFigure, compare_figures

RUNS, SPREAD, WITHIN = 10, 0.05, 0.02 ** 2


def _side(rng: np.random.Generator, log_ratio: float) -> list[RunFigure]:
    return [RunFigure(float(log_ratio + rng.normal(0.0, math.sqrt(SPREAD ** 2 + WITHIN))), WITHIN, 600)
            for _ in range(RUNS)]


def _flag_rate(true_ratio: float, margin: float, trials: int = 2000, alpha: float = 0.01, seed: int = 5) -> float:
    rng = np.random.default_rng(seed)
    flagged = 0
    for _ in range(trials):
        test = compare_figures(_side(rng, 0.0), _side(rng, math.log(true_ratio)), margin=margin)
        flagged += test.p_regression < alpha
    return flagged / trials


def test_a_change_at_the_margin_is_flagged_at_most_alpha_of_the_time() -> None:
    margin = math.sqrt(1.10)
    assert _flag_rate(margin, margin) <= 0.015  # alpha 1 % plus the simulation's own error
    assert _flag_rate(1.0, margin) == 0.0
    assert _flag_rate(1.05, 1.0) > 0.3  # the plain null: a 5 % change is "significant" with ten runs


def test_a_change_beyond_the_factor_is_still_seen() -> None:
    assert _flag_rate(1.2, math.sqrt(1.10), trials=500) >= 0.95


def test_the_margin_moves_p_values_and_the_smallest_flagged_ratio() -> None:
    rng = np.random.default_rng(1)
    base, head = _side(rng, 0.0), _side(rng, math.log(1.2))
    plain, strict = compare_figures(base, head), compare_figures(base, head, margin=1.1)
    assert (strict.ratio, strict.ci_low, strict.ci_high) == (plain.ratio, plain.ci_low, plain.ci_high)
    assert strict.p_regression > plain.p_regression and strict.p_improvement >= plain.p_improvement  # both harder
    assert strict.smallest_flagged(0.01) == pytest.approx(1.1 * plain.smallest_flagged(0.01))


def test_a_margin_below_one_is_refused() -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match="margin 0.9 is below 1"):
        compare_figures(_side(rng, 0.0), _side(rng, 0.0), margin=0.9)
