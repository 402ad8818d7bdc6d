"""Load shapes: an arrival-rate schedule (syncs per second) over time, as LoadTestShape
classes with tick(). The workload is open: arrivals follow the schedule whatever the
pipeline does; tick() only keeps one arrival user per Locust process alive until the end."""

from __future__ import annotations

import random
from collections.abc import Iterator

from locust import LoadTestShape

ARRIVALS = ("uniform", "poisson")


class RateShape(LoadTestShape):
    """Subclasses set `duration_s` and `rate_at(elapsed_s)`."""

    abstract = True
    duration_s: float = 60.0
    description = ""
    users_per_process = 2  # one arrival user + one mutation user (fixed counts)
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

    def rate_at(self, elapsed_s: float) -> float:
        raise NotImplementedError

    def arrival_offsets(self, step_s: float = 0.01, arrivals: str = "uniform", seed: int = 1) -> Iterator[float]:
        """Intended arrival times (seconds from start). The integral of the rate is the
        expected count of arrivals so far; an arrival falls each time it has grown by one
        more gap. `uniform`: every gap is 1, evenly spaced arrivals that follow ramps and
        bursts exactly. `poisson`: gaps are seeded Exp(1) draws, so arrivals form a Poisson
        process of this rate (a unit-rate process in the rate's own time): the clumps and
        lulls of independent tenants, which uniform spacing hides. The same every run."""
        if arrivals not in ARRIVALS:
            raise ValueError(f"arrivals {arrivals!r} is not allowed; use one of {', '.join(ARRIVALS)}")
        draw = random.Random(seed).expovariate if arrivals == "poisson" else None
        gap = draw(1.0) if draw else 1.0
        accumulated, elapsed = 0.0, 0.0
        while elapsed < self.duration_s:
            accumulated += self.rate_at(elapsed) * step_s
            elapsed += step_s
            while accumulated >= gap:
                accumulated -= gap
                gap = draw(1.0) if draw else 1.0
                yield round(elapsed, 4)

    def tick(self) -> tuple[int, float] | None:
        if self.get_run_time() > self.duration_s:
            return None
        return (self.users_per_process, 100.0)


def ramp(elapsed_s: float, start: float, target: float, ramp_s: float) -> float:
    """From `start` to `target` syncs/s over `ramp_s`. Starting above zero keeps the first
    arrival within a second or two of the warm-up: a worker left idle by the suite's own
    start-up (Locust takes ~2 s to start) is not the pipeline's latency under load."""
    return start + (target - start) * min(1.0, elapsed_s / ramp_s)


class Smoke(RateShape):
    duration_s = 90.0
    description = "CI gate: 10 s ramp from 1 to 1.5 syncs/s, hold to 90 s"

    def rate_at(self, elapsed_s: float) -> float:
        return ramp(elapsed_s, 1.0, 1.5, 10.0)


class Tiny(RateShape):
    duration_s = 20.0
    description = "tests only: 20 s at 2 syncs/s"

    def rate_at(self, elapsed_s: float) -> float:
        return 2.0


class Constant(RateShape):
    """One constant rate (the run's `rate_syncs_per_s`) for the run's `duration_s`: a step of
    the capacity search."""

    duration_s = 40.0
    description = "a constant rate for the run's duration (capacity search steps)"

    def rate_at(self, elapsed_s: float) -> float:
        return self.target_rate


class Standard(RateShape):
    duration_s = 660.0
    description = "pre-rollout run: 60 s ramp to the profile's rate (10x production), hold 10 minutes"

    def rate_at(self, elapsed_s: float) -> float:
        return ramp(elapsed_s, min(1.0, self.target_rate), self.target_rate, 60.0)


class Soak(RateShape):
    duration_s = 3600.0
    description = "an hour at the profile's rate (2x production)"

    def rate_at(self, elapsed_s: float) -> float:
        return ramp(elapsed_s, min(1.0, self.target_rate), self.target_rate, 60.0)


class Spike(RateShape):
    duration_s = 300.0
    description = "the profile's rate (2x production) with a 30 s burst at 15 times it (30x production) from 120 s"

    def rate_at(self, elapsed_s: float) -> float:
        return self.target_rate * (15.0 if 120.0 <= elapsed_s < 150.0 else 1.0)


SHAPES: dict[str, type[RateShape]] = {"tiny": Tiny, "smoke": Smoke, "constant": Constant, "standard": Standard, "soak": Soak, "spike": Spike}
