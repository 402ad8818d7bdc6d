"""Cross-release comparison (A/A never regresses; a large slow-down is found; a slow-down
within the run-to-run spread is not called) and the summary's JSON Schema."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_bench.collect.histograms import decode, encode, from_values, summarize
from rollout_bench.compare.rows import compare_runs
from rollout_bench.results.summary import validate


def _runs(rng: random.Random, count: int, scale: float = 1.0, run_sd: float = 0.02, n: int = 400) -> list[dict]:
    """`count` runs of lognormal job latency with a small run effect (a quiet machine)."""
    out = []
    for _ in range(count):
        effect = rng.lognormvariate(0, run_sd) * scale
        out.append({"job_latency_ms": {"unified": [rng.lognormvariate(3, 0.4) * effect for _ in range(n)]}})
    return out


def _verdicts(rows: list) -> dict[tuple[str, str], str]:
    return {(r.metric, r.statistic): r.verdict for r in rows if r.path == "unified" and r.metric == "job_latency_ms"}


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(min_value=0.1, max_value=5000), min_size=20, max_size=200))
def test_a_run_compared_with_itself_never_regresses(samples: list[float]) -> None:
    runs = [{"job_latency_ms": {"unified": samples}}]
    assert all(r.verdict != "regression" for r in compare_runs(runs, [{"job_latency_ms": {"unified": list(samples)}}]))


def test_a_release_compared_with_itself_is_no_change() -> None:
    runs = _runs(random.Random(3), 3)
    assert set(_verdicts(compare_runs(runs, runs)).values()) == {"no change"}


def test_a_large_slow_down_on_a_quiet_machine_is_a_regression() -> None:
    rng = random.Random(4)
    verdicts = _verdicts(compare_runs(_runs(rng, 5), _runs(rng, 5, scale=1.5)))
    assert verdicts[("job_latency_ms", "p50")] == "regression"


def test_a_slow_down_within_the_run_to_run_spread_is_not_significant() -> None:
    rng = random.Random(5)
    verdicts = _verdicts(compare_runs(_runs(rng, 3, run_sd=0.3), _runs(rng, 1, scale=1.3, run_sd=0.3)))
    assert "regression" not in verdicts.values()


def test_too_few_samples_cannot_tell() -> None:
    rows = compare_runs([{"job_latency_ms": {"unified": [1.0] * 5}}], [{"job_latency_ms": {"unified": [9.0] * 5}}])
    assert _verdicts(rows)[("job_latency_ms", "p50")] == "no data"


def test_a_change_in_queries_per_analysis_is_always_reported() -> None:
    base = [{"queries_per_analysis": {"unified": [6.0] * 30}} for _ in range(3)]
    head = [{"queries_per_analysis": {"unified": [6.0] * 29 + [7.0]}}]
    rows = {r.statistic: r for r in compare_runs(base, head) if r.metric == "queries_per_analysis"
            and r.path == "unified"}
    assert rows["max"].verdict == "regression" and "head runs [7.0]" in rows["max"].note
    assert rows["median"].verdict == "no change"


def test_histogram_round_trip_and_summary() -> None:
    histogram = from_values([1.0, 2.0, 3.0, 1000.0], "ms")
    summary = summarize(decode(encode(histogram)), "ms")
    assert summary["count"] == 4 and 999 <= summary["max"] <= 1001


def minimal_summary() -> dict:
    latency = {"count": 0, "p50": None, "p95": None, "p99": None, "max": None}
    counts = {"count": 0, "min": None, "median": None, "max": None}
    return {"schema": 2, "run_id": "r", "release": "0.1", "git_sha": "abc", "week": 5, "profile": "smoke",
            "stack": "external", "machine": {}, "flags": {}, "seed": 1, "started_at": "t", "duration_s": 1.0,
            "metrics": {"job_latency_ms": {"legacy": latency, "unified": latency},
                        "analysis_s": {"legacy": latency, "unified": latency},
                        "queries_per_analysis": {"legacy": counts, "unified": counts},
                        "slow_queries": 0, "errors": 0},
            "jobs": {"enqueued": 0, "completed": 0, "failed": 0, "lost": 0, "duplicated": 0},
            "accuracy": {"expected": 0, "found": 0, "missing": 0, "extra": 0},
            "comparison": {"analyses": 0, "matched": 0, "mismatched": 0, "ignored": 0},
            "gates": [{"name": "g", "target": "< 1", "observed": 0, "samples": 10, "result": "pass", "passed": True}],
            "verdict": "PROMOTE", "reasons": []}


def test_summary_schema_accepts_a_complete_summary_and_names_what_is_missing() -> None:
    document = minimal_summary()
    assert validate(json.loads(json.dumps(document))) == []
    del document["jobs"]["lost"]
    document["verdict"] = "MAYBE"
    problems = validate(document)
    assert "$.jobs: missing 'lost'" in problems
    assert any("MAYBE" in p for p in problems)


def test_other_releases_of_the_context_narrow_what_a_comparison_can_see() -> None:
    rng = random.Random(6)
    base, head, older = _runs(rng, 3, run_sd=0.1), _runs(rng, 1, run_sd=0.1), [_runs(rng, 3, run_sd=0.1)] * 3

    def detectable(rows: list) -> float:
        return next(r.detectable for r in rows if r.path == "unified" and r.metric == "job_latency_ms"
                    and r.statistic == "p50")

    assert detectable(compare_runs(base, head, spread=older)) < detectable(compare_runs(base, head))
