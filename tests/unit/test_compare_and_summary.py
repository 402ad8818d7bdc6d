"""Cross-release comparison (A/A never regresses; a real slow-down is found) and the
summary's JSON Schema."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from rollout_bench.collect.histograms import decode, encode, from_values, summarize
from rollout_bench.compare.releases import compare_samples
from rollout_bench.results.summary import validate


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0.1, max_value=5000), min_size=20, max_size=200))
def test_a_run_compared_with_itself_never_regresses(samples: list[float]) -> None:
    assert compare_samples("job_latency_ms", "unified", samples, list(samples)).verdict != "regression"


def test_two_halves_of_one_sample_do_not_regress() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(3, 0.5) for _ in range(2000)]
    assert compare_samples("m", "unified", values[::2], values[1::2]).verdict in ("no change", "not significant")


def test_a_real_slow_down_is_a_regression() -> None:
    rng = random.Random(4)
    base = [rng.lognormvariate(3, 0.3) for _ in range(500)]
    head = [v * 1.5 for v in (rng.lognormvariate(3, 0.3) for _ in range(500))]
    assert compare_samples("m", "unified", base, head).verdict == "regression"


def test_too_few_samples_cannot_tell() -> None:
    assert compare_samples("m", "unified", [1.0] * 5, [9.0] * 5).verdict == "no data"


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
