"""Load shapes: an arrival-rate schedule (syncs per second) over time, as LoadTestShape
classes with tick(). The workload is open: arrivals follow the schedule whatever the
pipeline does; tick() only keeps the run alive (the arrivals are fired by each Locust
process's arrival engine, loadtests/arrivals.py) until the schedule and its drain are over.

A shape is a list of segments over which the rate changes linearly (a constant, a ramp, a
burst), so the integrated rate and its inverse are exact: an arrival falls where the
integrated rate reaches its target (uniform: 1, 2, 3, ...; Poisson: the running sum of
seeded Exp(1) gaps), with no time grid to clump arrivals onto."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from locust import LoadTestShape

from rollout_bench.load.config import ARRIVALS

SCHEDULE_LEAD_S = 1.0  # the schedule starts this long after the test does (processes ready, clocks shared)
END_MARGIN_S = 2.0  # the run lasts this long past the last scheduled arrival, for the last enqueues


@dataclass(frozen=True)
class Segment:
    """From `start_s` to `end_s` the rate goes linearly from `start_rate` to `end_rate` syncs/s."""

    start_s: float
    end_s: float
    start_rate: float
    end_rate: float

    @property
    def slope(self) -> float:
        return (self.end_rate - self.start_rate) / (self.end_s - self.start_s)

    def rate_at(self, elapsed_s: float) -> float:
        return self.start_rate + self.slope * (elapsed_s - self.start_s)

    def integral_to(self, elapsed_s: float) -> float:
        """Expected arrivals from the segment's start to `elapsed_s` (within the segment)."""
        x = elapsed_s - self.start_s
        return self.start_rate * x + self.slope * x * x / 2

    @property
    def integral(self) -> float:
        return self.integral_to(self.end_s)

    def time_of(self, amount: float) -> float:
        """The inverse of integral_to: when `amount` (0 <= amount <= integral) arrivals are
        expected. The root of slope/2 x^2 + start_rate x = amount in its stable form."""
        root = math.sqrt(max(0.0, self.start_rate * self.start_rate + 2 * self.slope * amount))
        if self.start_rate + root == 0:
            return self.start_s
        return min(self.end_s, self.start_s + 2 * amount / (self.start_rate + root))


class RateShape(LoadTestShape):
    """Subclasses set `duration_s` and `segments()` (which cover 0 to duration_s)."""

    abstract = True
    duration_s: float = 60.0
    description = ""
    users_per_process = 1  # the mutation user (fixed count); arrivals are not users
    target_rate: float = 1.0  # syncs/s held after the ramp, for shapes that take the run's rate

    @classmethod
    def with_rate(cls, target_rate: float | None, duration_s: float | None = None) -> type[RateShape]:
        """This shape holding `target_rate` (the profile's multiple of production) and lasting
        `duration_s`, where given."""
        overrides: dict[str, object] = {}
        if target_rate is not None:
            overrides["target_rate"] = float(target_rate)
        if duration_s is not None:
            overrides["duration_s"] = float(duration_s)
        if not overrides:
            return cls
        return type(cls.__name__, (cls,), {**overrides, "abstract": False})

    def segments(self) -> list[Segment]:
        raise NotImplementedError

    def _segments(self) -> list[Segment]:
        """segments() cut to the duration (a shorter run ends inside a segment)."""
        cut: list[Segment] = []
        for segment in self.segments():
            if segment.start_s >= self.duration_s:
                break
            if segment.end_s > self.duration_s:
                segment = Segment(segment.start_s, self.duration_s, segment.start_rate,
                                  segment.rate_at(self.duration_s))
            cut.append(segment)
        return cut

    def rate_at(self, elapsed_s: float) -> float:
        for segment in self._segments():
            if segment.start_s <= elapsed_s < segment.end_s:
                return segment.rate_at(elapsed_s)
        return 0.0

    def expected_arrivals(self, elapsed_s: float | None = None) -> float:
        """The integrated rate from 0 to `elapsed_s` (the whole duration by default)."""
        until = self.duration_s if elapsed_s is None else elapsed_s
        total = 0.0
        for segment in self._segments():
            if segment.start_s >= until:
                break
            total += segment.integral_to(min(until, segment.end_s))
        return total

    def arrival_offsets(self, arrivals: str = "uniform", seed: int = 1) -> Iterator[float]:
        """Intended arrival times (seconds from start), exact: the i-th arrival falls where the
        integrated rate reaches its target. `uniform`: targets 1, 2, 3, ..., evenly spaced
        arrivals that follow ramps and bursts. `poisson`: targets are running sums of seeded
        Exp(1) gaps, so the arrivals are a Poisson process of this rate (a unit-rate process
        in the rate's own time): the clumps and lulls of independent tenants, which uniform
        spacing hides. The same every run for a seed."""
        if arrivals not in ARRIVALS:
            raise ValueError(f"arrivals {arrivals!r} is not allowed; use one of {', '.join(ARRIVALS)}")
        draw = random.Random(seed).expovariate if arrivals == "poisson" else None
        target = draw(1.0) if draw else 1.0
        reached = 0.0  # integrated rate at the start of the current segment
        for segment in self._segments():
            end = reached + segment.integral
            while target <= end:
                yield segment.time_of(target - reached)
                target += draw(1.0) if draw else 1.0
            reached = end

    def tick(self) -> tuple[int, float] | None:
        if self.get_run_time() > SCHEDULE_LEAD_S + self.duration_s + END_MARGIN_S:
            return None
        return (self.users_per_process, 100.0)


def ramp(start: float, target: float, ramp_s: float, duration_s: float) -> list[Segment]:
    """From `start` to `target` syncs/s over `ramp_s`, then `target` to `duration_s`. Starting
    above zero keeps the first arrival within a second or two of the warm-up: a worker left
    idle by the suite's own start-up is not the pipeline's latency under load."""
    return [Segment(0.0, ramp_s, start, target), Segment(ramp_s, max(ramp_s, duration_s), target, target)]


def constant(rate: float, start_s: float, end_s: float) -> Segment:
    return Segment(start_s, end_s, rate, rate)


class Smoke(RateShape):
    duration_s = 90.0
    description = "CI gate: 10 s ramp from 1 to 1.5 syncs/s, hold to 90 s"

    def segments(self) -> list[Segment]:
        return ramp(1.0, 1.5, 10.0, self.duration_s)


class Tiny(RateShape):
    duration_s = 20.0
    description = "tests only: 20 s at 2 syncs/s"

    def segments(self) -> list[Segment]:
        return [constant(2.0, 0.0, self.duration_s)]


class Constant(RateShape):
    """One constant rate (the run's `rate_syncs_per_s`) for the run's `duration_s`: a step of
    the capacity search."""

    duration_s = 40.0
    description = "a constant rate for the run's duration (capacity search steps)"

    def segments(self) -> list[Segment]:
        return [constant(self.target_rate, 0.0, self.duration_s)]


class Standard(RateShape):
    duration_s = 660.0
    description = "pre-rollout run: 60 s ramp to the profile's rate (10x production), hold 10 minutes"

    def segments(self) -> list[Segment]:
        return ramp(min(1.0, self.target_rate), self.target_rate, 60.0, self.duration_s)


class Soak(RateShape):
    duration_s = 3600.0
    description = "an hour at the profile's rate (2x production)"

    def segments(self) -> list[Segment]:
        return ramp(min(1.0, self.target_rate), self.target_rate, 60.0, self.duration_s)


class Spike(RateShape):
    duration_s = 300.0
    description = "the profile's rate (2x production) with a 30 s burst at 15 times it (30x production) from 120 s"

    def segments(self) -> list[Segment]:
        base = self.target_rate
        return [constant(base, 0.0, 120.0), constant(base * 15.0, 120.0, 150.0),
                constant(base, 150.0, max(150.0, self.duration_s))]


SHAPES: dict[str, type[RateShape]] = {"tiny": Tiny, "smoke": Smoke, "constant": Constant, "standard": Standard, "soak": Soak, "spike": Spike}
