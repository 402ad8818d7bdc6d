"""A capacity step's judgement (capacity/criteria.py): each check passes, fails, or has no
evidence, and says which with its figures."""

from __future__ import annotations

from rollout_bench.capacity.criteria import (
    SUSTAINABLE,
    UNDECIDED,
    UNSUSTAINABLE,
    Criteria,
    backlog_check,
    errors_check,
    generator_check,
    generator_only,
    latency_check,
    verdict,
)
from rollout_bench.capacity.result import Check
from rollout_bench.capacity.slope import growth_test

CRITERIA = Criteria()
TIMES = [float(t) for t in range(31)]


def test_the_hold_is_long_enough_for_a_p99_bound_at_low_rates() -> None:
    assert CRITERIA.hold_for(50.0) == 30.0  # 1 500 jobs in the 30 s hold
    assert CRITERIA.hold_for(5.0) == 80.0  # 1 sync/s: 400 jobs need 80 s
    assert CRITERIA.hold_for(0.5) == 180.0 and CRITERIA.hold_for(0.0) == 180.0  # never beyond max_hold_s


def test_latency_passes_on_an_upper_bound_below_the_target() -> None:
    check, figures = latency_check({"unified": [40.0] * 390 + [300.0] * 10}, CRITERIA)
    assert check.passed is True and check.samples == 400
    assert figures["unified"]["bounds"]["p99"]["upper"] == 300.0
    assert "upper bound 300 ms < 1000 ms" in check.observed


def test_too_few_samples_for_a_p99_bound_is_undecided_never_a_pass() -> None:
    check, _ = latency_check({"unified": [5.0] * 150}, CRITERIA)
    assert check.passed is None and "150 samples, a p99 bound needs 299" in check.observed


def test_latency_fails_when_the_lower_bound_reaches_the_target() -> None:
    check, _ = latency_check({"unified": [40.0] * 300 + [2500.0] * 100}, CRITERIA)
    assert check.passed is False and "lower bound 2500 ms >= 1000 ms" in check.observed


def test_legacy_is_judged_against_its_poll_plus_one_second() -> None:
    assert CRITERIA.target_ms("legacy") == 3000.0 and CRITERIA.target_ms("unified") == 1000.0
    check, _ = latency_check({"legacy": [2500.0] * 400}, CRITERIA)
    assert check.passed is True


def test_a_mix_needs_every_path_to_pass() -> None:
    check, _ = latency_check({"unified": [40.0] * 400, "legacy": [4000.0] * 400}, CRITERIA)
    assert check.passed is False and "new path" in check.observed and "legacy" in check.observed


def test_no_started_job_is_no_evidence() -> None:
    check, _ = latency_check({}, CRITERIA)
    assert check.passed is None and check.samples == 0


def test_a_growing_backlog_fails_and_a_steady_one_passes() -> None:
    growing = growth_test(TIMES, [3.0 * t for t in TIMES], 30.0, 10.0)
    steady = growth_test(TIMES, [4.0 + (t % 2) for t in TIMES], 30.0, 10.0)
    failed = backlog_check("backlog_depth", {"unified": growing}, "jobs")
    assert failed.passed is False and "new path grows: +90 jobs over the hold (tolerance 10)" in failed.observed
    assert backlog_check("backlog_depth", {"unified": steady}, "jobs").passed is True


def test_a_backlog_without_enough_samples_or_with_a_dead_sampler_is_no_evidence() -> None:
    few = growth_test(TIMES[:5], TIMES[:5], 30.0, 10.0)
    assert backlog_check("backlog_age", {"unified": few}, "s").passed is None
    steady = growth_test(TIMES, [1.0] * 31, 30.0, 10.0)
    dead = backlog_check("backlog_depth", {"unified": steady}, "jobs", sampler_error="ConnectionError: refused")
    assert dead.passed is None and "the sampler died" in dead.observed


def test_errors_are_judged_against_the_success_rate_gate() -> None:
    assert errors_check(0, 1000, 0, 200, CRITERIA).passed is True
    assert errors_check(5, 1000, 0, 200, CRITERIA).passed is True  # 0.5 % is the gate
    assert errors_check(6, 1000, 0, 200, CRITERIA).passed is False
    assert errors_check(0, 1000, 2, 200, CRITERIA).passed is False  # 1 % of the generator's requests
    assert errors_check(0, 0, 0, 0, CRITERIA).passed is None


def test_the_generator_check_names_the_generator_not_the_pipeline() -> None:
    lateness = {"count": 500, "p99": 40.0}
    assert generator_check({"planned": 500, "dropped": 0}, lateness, CRITERIA).passed is True
    late = generator_check({"planned": 500, "dropped": 0}, {"count": 500, "p99": 250.0}, CRITERIA)
    assert late.passed is False and late.observed.startswith("the generator, not the pipeline")
    assert generator_check({"planned": 500, "dropped": 3}, lateness, CRITERIA).passed is False
    assert generator_check({"planned": 0, "dropped": 0}, {"count": 0}, CRITERIA).passed is None


def test_a_step_is_sustainable_only_when_every_check_passed() -> None:
    passed = [Check(n, True, "ok", 1) for n in ("latency", "backlog_depth", "generator")]
    assert verdict(passed) == SUSTAINABLE
    assert verdict([*passed[:2], Check("generator", None, "none", 0)]) == UNDECIDED
    failed = [*passed[:2], Check("generator", False, "late", 9)]
    assert verdict(failed) == UNSUSTAINABLE and generator_only(failed)
    assert not generator_only([Check("latency", False, "slow", 9), *failed[1:]])
    assert verdict([]) == UNDECIDED
