"""Gate expressions (parsed, never eval'd), their evaluation, and the verdict logic."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout_bench.errors import UserError
from rollout_bench.judge.gates import (
    Gate,
    GateResult,
    evaluate,
    load_gates,
    parse_expression,
)
from rollout_bench.judge.verdict import decide

SUMMARY = {"metrics": {"job_latency_ms": {"unified": {"p99": 420.0, "count": 500}}},
           "errors_by_path": {"unified": {"rate": 0.02, "jobs": 300}, "legacy": {"rate": 0.015, "jobs": 300}},
           "jobs": {"lost": 0, "enqueued": 10}}


def gate(expr: str, **kw) -> Gate:
    return Gate(kw.pop("name", "g"), parse_expression(expr), **kw)


def test_parses_constant_and_path_bounds() -> None:
    e = parse_expression("errors_by_path.unified.rate <= errors_by_path.legacy.rate * 1.10 + 0.01")
    assert (e.left, e.op, e.right_path, e.factor, e.offset) == (
        "errors_by_path.unified.rate", "<=", "errors_by_path.legacy.rate", 1.10, 0.01)
    assert parse_expression("jobs.lost == 0").offset == 0


@pytest.mark.parametrize("text, fragment", [
    ("jobs.lost = 0", "cannot read '='"),
    ("jobs.lost 0", "not 'PATH OP VALUE'"),
    ("jobs.lost < a.b * x", "followed by a number"),
    ("jobs.lost < 1 2", "neither a number nor a path"),
])
def test_bad_expressions_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        parse_expression(text)


def test_gate_file_typo_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text('[[gate]]\nname = "x"\nexpr = "jobs.lost == 0"\nmin_sample = 3\n')
    with pytest.raises(UserError, match="unknown key 'min_sample'"):
        load_gates(path)


def test_shipped_gate_file_parses() -> None:
    assert len(load_gates(Path("ops/gates.toml"))) >= 10


def test_evaluation_pass_fail_and_inconclusive() -> None:
    assert evaluate(gate("metrics.job_latency_ms.unified.p99 < 1000"), SUMMARY).result == "pass"
    assert evaluate(gate("metrics.job_latency_ms.unified.p99 < 100"), SUMMARY).result == "fail"
    few = gate("jobs.lost == 0", samples_path="jobs.enqueued", min_samples=50)
    assert evaluate(few, SUMMARY).result == "inconclusive"
    relative = gate("errors_by_path.unified.rate <= errors_by_path.legacy.rate * 1.10 + 0.01")
    assert evaluate(relative, SUMMARY).result == "pass"


def test_missing_metric_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="metrics.nope"):
        evaluate(gate("metrics.nope < 1"), SUMMARY)


def result(outcome: str, kind: str = "target") -> GateResult:
    return GateResult("g", kind, "< 1", 2.0, 100, outcome)


def test_each_verdict() -> None:
    assert decide([result("pass"), result("pass")]).verdict == "PROMOTE"
    assert decide([result("pass"), result("inconclusive")]).verdict == "INCONCLUSIVE"
    assert decide([result("fail"), result("inconclusive")]).verdict == "HOLD"
    assert decide([result("fail"), result("fail", "rollback")]).verdict == "ROLLBACK"
    assert decide([result("pass")]).exit_code == 0
    assert {decide([result(r)]).exit_code for r in ("fail", "inconclusive")} == {1}
