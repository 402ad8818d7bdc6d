"""The arrival schedule is exact: uniform arrivals one unit of integrated rate apart, Poisson
arrivals with Exp(1) gaps in integrated-rate time (so Exp(rate) gaps at a constant rate),
seeded and the same every run, and the ramps and the spike's burst followed."""

from __future__ import annotations

import itertools
import math
import os
import random

import pytest
from scipy import stats

_SKIP = "LOCUST_SKIP_MONKEY_PATCH"
_previous = os.environ.get(_SKIP)
os.environ[_SKIP] = "1"  # importing locust must not monkey-patch the test process
try:
    from loadtests.shapes import SHAPES, RateShape, Segment
finally:
    if _previous is None:
        del os.environ[_SKIP]
    else:
        os.environ[_SKIP] = _previous

KS_ALPHA = 0.01


def shape(name: str, rate: float | None = None, duration_s: float | None = None) -> RateShape:
    return SHAPES[name].with_rate(rate, duration_s)()


def gaps(values: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(values)]


def test_poisson_gaps_at_a_constant_rate_are_exponential_at_that_rate() -> None:
    rate = 300.0
    offsets = list(shape("constant", rate, 20.0).arrival_offsets(arrivals="poisson", seed=7))
    assert stats.kstest(gaps(offsets), "expon", args=(0, 1 / rate)).pvalue > KS_ALPHA
    # the test can fail: the same gaps are not exponential at half the rate, nor are uniform gaps
    assert stats.kstest(gaps(offsets), "expon", args=(0, 2 / rate)).pvalue < 1e-6
    uniform = list(shape("constant", rate, 20.0).arrival_offsets(arrivals="uniform"))
    assert stats.kstest(gaps(uniform), "expon", args=(0, 1 / rate)).pvalue < 1e-6


def test_arrivals_sit_on_no_time_grid() -> None:
    """At 300 syncs/s a 10 ms grid put three arrivals on each tick; exact offsets do not."""
    offsets = list(shape("constant", 300.0, 10.0).arrival_offsets(arrivals="poisson", seed=3))
    on_grid = sum(1 for t in offsets if abs(t * 100 - round(t * 100)) < 1e-9)
    assert on_grid <= 1
    assert len(set(offsets)) == len(offsets)


def test_uniform_gaps_are_constant_at_a_constant_rate() -> None:
    offsets = list(shape("constant", 40.0, 10.0).arrival_offsets(arrivals="uniform"))
    assert len(offsets) == 400
    assert offsets[0] == pytest.approx(1 / 40.0)
    assert max(gaps(offsets)) - min(gaps(offsets)) < 1e-9
    assert gaps(offsets)[0] == pytest.approx(1 / 40.0)


@pytest.mark.parametrize("name, rate, duration_s", [
    ("smoke", None, None), ("tiny", None, None), ("constant", 25.0, 30.0), ("standard", 5.0, 120.0),
    ("soak", 0.5, 300.0), ("spike", 2.0, 200.0),
])
def test_uniform_arrivals_are_one_unit_of_integrated_rate_apart(name: str, rate: float | None,
                                                                duration_s: float | None) -> None:
    """The exactness that follows ramps and bursts: between two arrivals the rate integrates
    to exactly one, and the count is the whole part of the integral over the run."""
    s = shape(name, rate, duration_s)
    offsets = list(s.arrival_offsets(arrivals="uniform"))
    assert len(offsets) == math.floor(s.expected_arrivals() + 1e-9)
    for k, t in enumerate(offsets, start=1):
        assert s.expected_arrivals(t) == pytest.approx(k, abs=1e-6)
    assert all(0 < t <= s.duration_s for t in offsets)


@pytest.mark.parametrize("name, rate, duration_s", [
    ("smoke", None, None), ("standard", 20.0, 120.0), ("spike", 4.0, 300.0), ("constant", 100.0, 60.0),
])
def test_poisson_arrivals_are_a_unit_rate_process_in_integrated_time(name: str, rate: float | None,
                                                                     duration_s: float | None) -> None:
    """Time rescaling: the integrated rate between Poisson arrivals is Exp(1), ramps and
    bursts included; the count is within four standard deviations of the integral."""
    s = shape(name, rate, duration_s)
    offsets = list(s.arrival_offsets(arrivals="poisson", seed=11))
    rescaled = [s.expected_arrivals(t) for t in offsets]
    assert stats.kstest(gaps([0.0, *rescaled]), "expon").pvalue > KS_ALPHA
    expected = s.expected_arrivals()
    assert abs(len(offsets) - expected) < 4 * math.sqrt(expected)


def test_the_spike_burst_is_followed() -> None:
    s = shape("spike", 2.0, 300.0)
    offsets = list(s.arrival_offsets(arrivals="uniform"))
    burst = [t for t in offsets if 120.0 <= t < 150.0]
    before = [t for t in offsets if 90.0 <= t < 120.0]
    assert abs(len(burst) - 2.0 * 15 * 30) <= 1
    assert abs(len(before) - 2.0 * 30) <= 1
    assert s.rate_at(130.0) == 30.0 and s.rate_at(150.0) == 2.0


def test_the_smoke_ramp_is_followed() -> None:
    s = shape("smoke")
    offsets = list(s.arrival_offsets(arrivals="uniform"))
    in_ramp = [t for t in offsets if t < 10.0]
    assert len(in_ramp) == math.floor(12.5)  # the ramp from 1 to 1.5 syncs/s over 10 s integrates to 12.5
    assert gaps(offsets)[0] > gaps(offsets)[10] > gaps(offsets)[-1] - 1e-9  # arrivals closer as the rate grows
    assert gaps(offsets)[-1] == pytest.approx(1 / 1.5)
    assert s.rate_at(5.0) == pytest.approx(1.25)


def test_the_schedule_is_seeded_and_the_same_every_run() -> None:
    s = shape("constant", 50.0, 20.0)
    first = list(s.arrival_offsets(arrivals="poisson", seed=5))
    assert first == list(shape("constant", 50.0, 20.0).arrival_offsets(arrivals="poisson", seed=5))
    assert first != list(s.arrival_offsets(arrivals="poisson", seed=6))


def test_an_unknown_arrival_process_is_refused() -> None:
    with pytest.raises(ValueError, match="arrivals 'bursty' is not allowed; use one of uniform, poisson"):
        list(shape("tiny").arrival_offsets(arrivals="bursty"))


def test_a_shorter_duration_cuts_the_segments() -> None:
    s = shape("smoke", None, 5.0)  # inside the ramp
    assert s.expected_arrivals() == pytest.approx(1.0 * 5 + 0.05 * 25 / 2)
    assert all(t <= 5.0 for t in s.arrival_offsets())


def test_segment_time_of_inverts_its_integral() -> None:
    rng = random.Random(1)
    for _ in range(500):
        start, length = rng.uniform(0, 100), rng.uniform(0.1, 60)
        segment = Segment(start, start + length, rng.uniform(0, 50), rng.choice([0.0, rng.uniform(0, 50)]))
        amount = rng.uniform(0, segment.integral)
        t = segment.time_of(amount)
        assert segment.start_s <= t <= segment.end_s
        assert segment.integral_to(t) == pytest.approx(amount, rel=1e-9, abs=1e-9)
