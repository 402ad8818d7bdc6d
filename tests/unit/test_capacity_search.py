"""The capacity search (capacity/search.py) over a fake step runner whose knee is known:
growth x2, bisection to 10 %, the repeat, and its limits (steps, time budget)."""

from __future__ import annotations

import pytest

from rollout_bench.capacity.criteria import verdict
from rollout_bench.capacity.result import Check, StepResult
from rollout_bench.capacity.search import Search, SearchLimits, round_rate


class FakeSteps:
    """Sustainable up to `knee` syncs/s; below `decided_from` too few samples (undecided);
    each step takes `wall_s` on a fake clock."""

    def __init__(self, knee: float, *, decided_from: float = 0.0, wall_s: float = 50.0,
                 failing_check: str = "latency", flaky_repeat: bool = False) -> None:
        self.knee, self.decided_from, self.wall_s = knee, decided_from, wall_s
        self.failing_check, self.flaky_repeat = failing_check, flaky_repeat
        self.now = 0.0
        self.rates: list[float] = []

    def clock(self) -> float:
        return self.now

    def __call__(self, rate: float, repeat_of: float | None = None) -> StepResult:
        self.now += self.wall_s
        self.rates.append(rate)
        ok = rate <= self.knee and not (repeat_of is not None and self.flaky_repeat)
        checks = [Check(name, True, "ok", 100) for name in ("latency", "backlog_depth", "backlog_age", "errors",
                                                           "generator")]
        if rate < self.decided_from:
            checks[0] = Check("latency", None, "undecided: 150 samples", 150)
        elif not ok:
            checks = [Check(c.name, False, "failed", 100) if c.name == self.failing_check else c for c in checks]
        return StepResult(rate, rate * 5, 30.0, rate * 5, {}, {}, {}, {}, checks, repeat_of, verdict(checks),
                          wall_s=self.wall_s)


def _search(fake: FakeSteps, **limits: float) -> Search:
    return Search(fake, SearchLimits(**{"budget_s": 10_000.0, **limits}), clock=fake.clock)  # type: ignore[arg-type]


@pytest.mark.parametrize("knee", [1.3, 7.3, 23.0, 100.0])
def test_a_known_knee_is_found_within_10_percent(knee: float) -> None:
    fake = FakeSteps(knee)
    outcome = _search(fake).run()
    assert outcome.knee is not None
    low, high = outcome.knee.bracket
    assert low <= knee < high and high / low <= 1.10 and outcome.knee.precise
    assert outcome.knee.syncs_per_s == low and outcome.knee.jobs_per_s == low * 5
    assert "within 10%" in outcome.stopped


def test_steps_are_ordered_as_the_search_says() -> None:
    fake = FakeSteps(7.3)
    outcome = _search(fake).run()
    rates = [s.rate_syncs_per_s for s in outcome.steps]
    assert rates[:4] == [1, 2, 4, 8]  # growth x2 until the first failure
    low, high = 4.0, 8.0
    for rate in rates[4:-1]:  # bisection: each inside the bracket left by the steps before it
        assert low < rate < high
        low, high = (rate, high) if rate <= 7.3 else (low, rate)
    assert outcome.steps[-1].repeat_of == outcome.knee.syncs_per_s == rates[-1]  # type: ignore[union-attr]
    assert outcome.knee.repeats == 1 and outcome.knee.repeats_sustainable == 1  # type: ignore[union-attr]


def test_a_failing_first_step_gives_no_knee() -> None:
    fake = FakeSteps(0.5)
    outcome = _search(fake).run()
    assert outcome.knee is None and len(outcome.steps) == 1
    assert "not even the first decided step" in outcome.stopped


def test_undecided_low_steps_do_not_end_the_growth() -> None:
    fake = FakeSteps(7.3, decided_from=3.0)
    outcome = _search(fake).run()
    assert [s.verdict for s in outcome.steps[:2]] == ["undecided", "undecided"]
    assert outcome.knee is not None and outcome.knee.bracket[0] <= 7.3 < outcome.knee.bracket[1]


def test_the_time_budget_stops_the_search() -> None:
    fake = FakeSteps(7.3, wall_s=50.0)
    outcome = _search(fake, budget_s=175.0, first_step_estimate_s=50.0).run()
    assert len(outcome.steps) == 3 and fake.now <= 175.0  # a 4th step would end at 200 s
    assert outcome.knee is None
    assert "time budget (175 s)" in outcome.stopped and "every decided step up to 4" in outcome.stopped


def test_the_budget_counts_from_the_commands_start() -> None:
    fake = FakeSteps(7.3, wall_s=50.0)
    limits = SearchLimits(budget_s=175.0, first_step_estimate_s=50.0)
    outcome = Search(fake, limits, clock=fake.clock, started=-75.0).run()  # 75 s of set-up before the search
    assert len(outcome.steps) == 2 and "time budget (175 s)" in outcome.stopped


def test_the_budget_keeps_the_reserve_for_the_floor_step() -> None:
    fake = FakeSteps(7.3, wall_s=50.0)
    outcome = _search(fake, budget_s=400.0, reserve_s=100.0, first_step_estimate_s=50.0).run()
    assert fake.now + 100.0 <= 400.0 and len(outcome.steps) == 6


def test_each_step_is_budgeted_by_its_own_estimate() -> None:
    """Low rates hold longer (more time for a p99's evidence): the budget asks per rate."""
    fake = FakeSteps(7.3, wall_s=50.0)
    asked: list[float] = []

    def estimate(rate: float) -> float:
        asked.append(rate)
        return 200.0 if rate >= 4 else 50.0

    outcome = Search(fake, SearchLimits(budget_s=250.0), clock=fake.clock, estimate=estimate).run()
    assert [s.rate_syncs_per_s for s in outcome.steps] == [1, 2] and asked == [1, 2, 4]


def test_a_bisection_cut_short_says_its_knee_is_imprecise() -> None:
    fake = FakeSteps(7.3)
    outcome = _search(fake, max_steps=5, repeats=0).run()
    assert outcome.knee is not None and not outcome.knee.precise
    assert "step limit (5 steps)" in outcome.stopped


def test_a_step_that_failed_only_on_the_generator_marks_the_knee() -> None:
    fake = FakeSteps(7.3, failing_check="generator")
    outcome = _search(fake).run()
    assert outcome.knee is not None and outcome.knee.limited_by == "generator"


def test_a_repeat_that_does_not_hold_is_counted() -> None:
    fake = FakeSteps(7.3, flaky_repeat=True)
    outcome = _search(fake, repeats=2).run()
    assert outcome.knee is not None and outcome.knee.repeats == 2 and outcome.knee.repeats_sustainable == 0


def test_rates_are_rounded_to_three_digits() -> None:
    assert round_rate(5.656854) == 5.66 and round_rate(0.123456) == 0.123 and round_rate(123.456) == 123.0
    with pytest.raises(ValueError):
        round_rate(0.0)
