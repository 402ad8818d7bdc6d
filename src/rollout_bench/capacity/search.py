"""The search for the highest sustainable arrival rate (the knee), over any step runner.

1. Grow: from `start`, multiply the rate by `growth` (x2) until a step is unsustainable.
   An undecided step (evidence missing, e.g. too few jobs for a p99 bound at a low rate)
   cannot be the knee but is no failure either: growth goes on.
2. Bisect between the highest sustainable rate (lo) and the lowest unsustainable one (hi)
   at their geometric mean until hi / lo <= `precision` (1.10). Here an undecided step
   counts as hi: the knee is only claimed where a step proved it.
3. Repeat the knee's rate `repeats` times, so a comparison across releases sees how often
   the same rate holds on the same machine.

Every step counts against `max_steps` and the time budget: a step starts only when its
estimated wall time (`estimate(rate)`; by default the longest step so far, or a first
estimate), plus `reserve_s` kept for what follows the search (the floor step), still fits
in `budget_s`. The knee is None when no step was
sustainable below an unsustainable one; a knee whose bracket is wider than the precision
(the limits cut the bisection short) says so (`precise` False)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rollout_bench.capacity.criteria import SUSTAINABLE, UNDECIDED, generator_only
from rollout_bench.capacity.result import Knee, StepResult

RunStep = Callable[[float, "float | None"], StepResult]  # (rate syncs/s, repeat_of) -> its result


@dataclass(frozen=True)
class SearchLimits:
    start: float = 1.0
    growth: float = 2.0
    precision: float = 1.10
    max_steps: int = 12
    budget_s: float = 560.0
    repeats: int = 1
    reserve_s: float = 0.0
    first_step_estimate_s: float = 60.0

    def to_dict(self) -> dict[str, float | int]:
        return {"start": self.start, "growth": self.growth, "precision": self.precision,
                "max_steps": self.max_steps, "budget_s": self.budget_s, "repeats": self.repeats,
                "reserve_s": self.reserve_s}


@dataclass
class SearchOutcome:
    steps: list[StepResult] = field(default_factory=list)
    knee: Knee | None = None
    stopped: str = ""


def round_rate(rate: float) -> float:
    """Three significant digits: rates a reader can type back as --start."""
    if rate <= 0:
        raise ValueError(f"rate {rate!r} must be above 0")
    digits = 2 - math.floor(math.log10(rate))
    return round(rate, digits)


class Search:
    def __init__(self, run_step: RunStep, limits: SearchLimits, clock: Callable[[], float] = time.monotonic,
                 estimate: Callable[[float], float] | None = None, started: float | None = None) -> None:
        """`started`: when the budget began (the command's start; default now)."""
        self.run_step = run_step
        self.limits = limits
        self.clock = clock
        self.estimate = estimate or (lambda rate: max((s.wall_s for s in self.outcome.steps),
                                                      default=limits.first_step_estimate_s))
        self.outcome = SearchOutcome()
        self.started = clock() if started is None else started
        self.cut = ""  # which limit stopped the search, if one did

    def _fits(self, rate: float) -> bool:
        limits, steps = self.limits, self.outcome.steps
        if len(steps) >= limits.max_steps:
            self.cut = f"the step limit ({limits.max_steps} steps)"
            return False
        if self.clock() - self.started + self.estimate(rate) + limits.reserve_s > limits.budget_s:
            self.cut = f"the time budget ({limits.budget_s:g} s)"
            return False
        return True

    def _step(self, rate: float, repeat_of: float | None = None) -> StepResult:
        step = self.run_step(rate, repeat_of)
        self.outcome.steps.append(step)
        return step

    def run(self) -> SearchOutcome:
        lo, hi = self._grow()
        if lo is not None and hi is not None:
            lo, hi = self._bisect(lo, hi)
        why = self._why(lo, hi)
        self.cut = ""
        self.outcome.knee = knee = self._knee(lo, hi)
        if knee is not None and knee.repeats < self.limits.repeats:
            why += f"; the knee's repeat was skipped by {self.cut}"
        self.outcome.stopped = why
        return self.outcome

    def _grow(self) -> tuple[float | None, float | None]:
        lo: float | None = None
        rate = round_rate(self.limits.start)
        while self._fits(rate):
            step = self._step(rate)
            if step.verdict == SUSTAINABLE:
                lo = rate
            elif step.verdict != UNDECIDED:
                return lo, rate
            rate = round_rate(rate * self.limits.growth)
        return lo, None

    def _bisect(self, lo: float, hi: float) -> tuple[float, float]:
        while hi / lo > self.limits.precision:
            mid = round_rate(math.sqrt(lo * hi))
            if mid in (lo, hi) or not self._fits(mid):
                break
            if self._step(mid).verdict == SUSTAINABLE:
                lo = mid
            else:
                hi = mid
        return lo, hi

    def _knee(self, lo: float | None, hi: float | None) -> Knee | None:
        if lo is None or hi is None:
            return None
        knee_step = next(s for s in reversed(self.outcome.steps) if s.rate_syncs_per_s == lo and s.repeat_of is None)
        repeats = [self._step(lo, repeat_of=lo) for _ in range(self.limits.repeats) if self._fits(lo)]
        above = next(s for s in reversed(self.outcome.steps) if s.rate_syncs_per_s == hi and s.repeat_of is None)
        return Knee(syncs_per_s=lo, jobs_per_s=knee_step.rate_jobs_per_s, bracket=(lo, hi),
                    repeats_sustainable=sum(1 for s in repeats if s.verdict == SUSTAINABLE), repeats=len(repeats),
                    precise=hi / lo <= self.limits.precision,
                    limited_by="generator" if generator_only(above.checks) else "pipeline")

    def _why(self, lo: float | None, hi: float | None) -> str:
        cut = f"; cut short by {self.cut}" if self.cut else ""
        if hi is None:
            reached = f"every decided step up to {lo:g} syncs/s was sustainable" if lo else "no step was decided"
            return f"no unsustainable step within the limits: {reached}{cut}"
        if lo is None:
            return f"not even the first decided step was sustainable ({hi:g} syncs/s){cut}"
        precision = f"within {self.limits.precision - 1:.0%}" if hi / lo <= self.limits.precision else \
            f"to {hi / lo - 1:.0%} only"
        return f"knee bracketed {precision}: {lo:g} syncs/s sustainable, {hi:g} not{cut}"
