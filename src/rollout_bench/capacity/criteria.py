"""When a capacity step is sustainable: every check below passed, each with its evidence.

- latency: the job-latency p99's 95 % upper bound (order statistics, collect/bounds.py) is
  below the path's target: 1 000 ms on the new path (the plan's target); the poll interval
  + 1 000 ms on legacy (a legacy job waits up to one poll by design). Too few samples for a
  bound is "undecided", never a pass; a lower bound at or above the target is a failure.
- backlog_depth, backlog_age: neither the queue depth nor the age of the oldest waiting job
  grows over the hold (capacity/slope.py: a one-sided slope test plus a tolerance of one
  latency target's worth).
- errors: failed jobs (all attempts failed) and lost jobs of the step, and the generator's
  failed requests, each at most 0.5 % (ops/gates.toml: success rate >= 99.5 %).
- generator: the load generator kept its schedule: no dropped arrival and arrival lateness
  p99 <= 100 ms (ops/gates.toml's validity gates). A step that fails only here was not
  offered: "the generator, not the pipeline".

- machine: no event of the machine itself during the step (load/machine_events.py: a VM
  snapshot or clone, a step of the wall clock); with one, the step's timings say nothing
  and the step is undecided (in the bisection an undecided step counts as too high).

A check is True (passed), False (failed) or None (no evidence). The step is sustainable
when all are True, unsustainable when any is False, else undecided."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rollout_bench.capacity.result import Check
from rollout_bench.capacity.slope import DEFAULT_ALPHA, MIN_SAMPLES, GrowthTest
from rollout_bench.collect.bounds import CONFIDENCE
from rollout_bench.collect.figures import latency_figures
from rollout_bench.load.machine_events import disturbance_reason

PATH_WORDS = {"unified": "new path", "legacy": "legacy", "floor": "no-op worker"}
SUSTAINABLE, UNSUSTAINABLE, UNDECIDED = "sustainable", "unsustainable", "undecided"
P99_SAMPLES_NEEDED = 299  # 1 - 0.99^n >= 0.95: the fewest samples a p99 upper bound needs


@dataclass(frozen=True)
class Criteria:
    hold_s: float = 30.0  # the shortest hold; longer where the rate is too low for the evidence
    warmup_s: float = 10.0
    judged_jobs: int = 400  # a hold long enough to expect this many jobs on each path (a p99 bound needs 299)
    max_hold_s: float = 180.0
    new_path_target_ms: float = 1000.0
    legacy_poll_s: float = 2.0  # the smoke profile's shortened poll
    confidence: float = CONFIDENCE
    slope_alpha: float = DEFAULT_ALPHA
    min_backlog_samples: int = MIN_SAMPLES
    max_error_share: float = 0.005
    max_lateness_p99_ms: float = 100.0

    def hold_for(self, jobs_per_s: float) -> float:
        """The step's hold at `jobs_per_s` on its least-loaded path: `hold_s`, or longer (up
        to `max_hold_s`) so the path can expect `judged_jobs` jobs; at 1 sync/s (5 jobs/s) a
        30 s hold brings 150, an undecided step by construction."""
        needed = self.judged_jobs / jobs_per_s if jobs_per_s > 0 else self.max_hold_s
        return float(min(self.max_hold_s, max(self.hold_s, math.ceil(needed))))

    def target_ms(self, path: str) -> float:
        return self.legacy_poll_s * 1000 + self.new_path_target_ms if path == "legacy" else self.new_path_target_ms

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "latency_quantile": 0.99,
                "latency_target_ms": {p: self.target_ms(p) for p in ("unified", "legacy", "floor")},
                "backlog_tolerance": "one latency target per hold: target seconds of age, target seconds of "
                                     "arrivals of depth"}


def combine(results: Sequence[bool | None]) -> bool | None:
    """False if any failed, True if all passed, else None (evidence missing somewhere)."""
    if any(r is False for r in results):
        return False
    if results and all(r is True for r in results):
        return True
    return None


def verdict(checks: Sequence[Check]) -> str:
    passed = combine([c.passed for c in checks])
    return SUSTAINABLE if passed is True else UNSUSTAINABLE if passed is False else UNDECIDED


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def latency_check(values_by_path: Mapping[str, Sequence[float]], criteria: Criteria) -> tuple[Check, dict[str, Any]]:
    """(the check, latency figures per path: count, p50, p95, p99, max, bounds)."""
    figures = {path: latency_figures(values, "ms") for path, values in values_by_path.items()}
    results: list[bool | None] = []
    words = []
    for path, fig in figures.items():
        bound, target = fig["bounds"]["p99"], criteria.target_ms(path)
        if bound["upper"] is not None and bound["upper"] < target:
            results.append(True)
            why = f"upper bound {_ms(bound['upper'])} < {target:g} ms"
        elif bound["lower"] is not None and bound["lower"] >= target:
            results.append(False)
            why = f"lower bound {_ms(bound['lower'])} >= {target:g} ms"
        else:
            results.append(None)
            why = (f"undecided: {fig['count']} samples, a p99 bound needs {P99_SAMPLES_NEEDED}"
                   if fig["count"] < P99_SAMPLES_NEEDED else f"undecided: bounds straddle {target:g} ms")
        words.append(f"{PATH_WORDS.get(path, path)} p99 {_ms(fig['p99'])} (n={fig['count']}), {why}")
    samples = sum(int(f["count"]) for f in figures.values())
    if not figures:
        return Check("latency", None, "no job of the hold window started", 0), figures
    return Check("latency", combine(results), "; ".join(words), samples), figures


def backlog_check(name: str, tests: Mapping[str, GrowthTest], unit: str, sampler_error: str = "") -> Check:
    """`name` is backlog_depth or backlog_age; one growth test per path."""
    if sampler_error:
        return Check(name, None, f"the sampler died: {sampler_error}", 0)
    if not tests:
        return Check(name, None, "no sample in the hold window", 0)
    results: list[bool | None] = []
    words = []
    for path, test in tests.items():
        label = PATH_WORDS.get(path, path)
        if test.growing is None:
            results.append(None)
            words.append(f"{label}: {test.samples} samples, too few for a slope")
            continue
        results.append(not test.growing)
        verb = "grows" if test.growing else "steady"
        words.append(f"{label} {verb}: {test.growth:+.3g} {unit} over the hold (tolerance {test.tolerance:.3g}), "
                     f"p={test.p_value:.3g}")
    return Check(name, combine(results), "; ".join(words), min(t.samples for t in tests.values()))


def errors_check(failed_jobs: int, enqueued_jobs: int, failed_requests: int, requests: int,
                 criteria: Criteria) -> Check:
    if enqueued_jobs <= 0:
        return Check("errors", None, "no job enqueued", 0)
    job_share = failed_jobs / enqueued_jobs
    request_share = failed_requests / requests if requests else 0.0
    passed = job_share <= criteria.max_error_share and request_share <= criteria.max_error_share
    observed = (f"{failed_jobs} of {enqueued_jobs} jobs failed or lost ({job_share:.2%}), {failed_requests} of "
                f"{requests} generator requests failed ({request_share:.2%}); gate {criteria.max_error_share:.1%}")
    return Check("errors", passed, observed, enqueued_jobs)


def generator_check(arrivals: Mapping[str, int], lateness: Mapping[str, Any], criteria: Criteria) -> Check:
    """arrivals: {planned, fired, dropped}; lateness: summarize() of the lateness histogram."""
    planned, dropped, count = int(arrivals.get("planned", 0)), int(arrivals.get("dropped", 0)), int(lateness.get("count") or 0)
    if planned == 0 or count == 0:
        return Check("generator", None, "the generator recorded no arrival", 0)
    p99 = float(lateness["p99"])
    passed = dropped == 0 and p99 <= criteria.max_lateness_p99_ms
    figures = f"arrival lateness p99 {_ms(p99)} (bound {criteria.max_lateness_p99_ms:g} ms), {dropped} of {planned} dropped"
    observed = figures if passed else f"the generator, not the pipeline: {figures}"
    return Check("generator", passed, observed, count)


def generator_only(checks: Sequence[Check]) -> bool:
    """True when the generator's check is the only one that failed."""
    failed = [c.name for c in checks if c.passed is False]
    return failed == ["generator"]


def machine_check(events: Mapping[str, Any]) -> Check:
    """None (undecided) when the VM was snapshotted or the wall clock stepped during the step."""
    reason = disturbance_reason(dict(events))
    if reason:
        return Check("machine", None, f"undecided: {reason}", 1)
    fork = {None: "kernel log unreadable", False: "no VM snapshot"}[events.get("vm_fork")]
    return Check("machine", True, f"{fork}; wall clock steady ({events.get('wall_clock_step_ms')} ms)", 1)
