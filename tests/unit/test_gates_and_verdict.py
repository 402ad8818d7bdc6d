"""Gate expressions (parsed, never eval'd), their evaluation with evidence and confidence
bounds, and the verdict logic."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rollout_bench.errors import UserError
from rollout_bench.judge.expressions import parse_expression
from rollout_bench.judge.gates import Gate, GateResult, evaluate, evaluate_all, load_gates
from rollout_bench.judge.verdict import decide
from rollout_bench.paths import gates_file
from rollout_bench.results.summary import describes

SUMMARY = {"metrics": {"job_latency_ms": {"unified": {"p99": 420.0, "p50": 20.0, "count": 500},
                                          "legacy": {"p50": 9000.0, "count": 400}}},
           "errors_by_path": {"unified": {"rate": 0.02, "jobs": 300}, "legacy": {"rate": 0.015, "jobs": 300}},
           "jobs": {"lost": 0, "enqueued": 10}, "infrastructure": {"redis_failures": None, "redis_samples": 0}}


def gate(expr: str, **kw) -> Gate:
    kw.setdefault("samples_path", "jobs.enqueued")
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


def _gate_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "gates.toml"
    path.write_text(body)
    return path


def test_gate_file_typo_names_the_key(tmp_path: Path) -> None:
    path = _gate_file(tmp_path, '[[gate]]\nname = "x"\nexpr = "jobs.lost == 0"\nsamples = "jobs.enqueued"\nmin_sample = 3\n')
    with pytest.raises(UserError, match="unknown key 'min_sample'"):
        load_gates(path)


def test_a_gate_without_evidence_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs 'samples'"):
        load_gates(_gate_file(tmp_path, '[[gate]]\nname = "x"\nexpr = "jobs.lost == 0"\n'))


def test_a_week_gate_must_say_why_other_weeks_skip_it(tmp_path: Path) -> None:
    body = '[[gate]]\nname = "x"\nexpr = "jobs.lost == 0"\nsamples = "jobs.enqueued"\nweeks = [7]\n'
    with pytest.raises(UserError, match="not_applicable"):
        load_gates(_gate_file(tmp_path, body))


@pytest.mark.parametrize("expr, samples, bad", [
    ("metrics.job_latency_ms.unifed.p99 < 1000", "jobs.enqueued", "metrics.job_latency_ms.unifed.p99"),
    ("errors_by_path.unified.rate <= errors_by_path.legcy.rate * 1.1", "jobs.enqueued", "errors_by_path.legcy.rate"),
    ("jobs.lost == 0", "jobs.enqueud", "jobs.enqueud"),
])
def test_a_typo_in_any_path_is_caught_when_the_file_is_loaded(tmp_path: Path, expr: str, samples: str,
                                                               bad: str) -> None:
    body = f'[[gate]]\nname = "x"\nexpr = "{expr}"\nsamples = "{samples}"\n'
    with pytest.raises(UserError, match=f"gate 'x': '{bad}' is not a summary.json path"):
        load_gates(_gate_file(tmp_path, body), describes)


def test_shipped_gate_file_parses_and_names_only_known_paths() -> None:
    gates = load_gates(gates_file(), describes)
    assert len(gates) >= 20
    assert all(g.samples_path for g in gates)


def test_point_gates_pass_and_fail() -> None:
    assert evaluate(gate("jobs.lost == 0"), SUMMARY).result == "pass"
    assert evaluate(gate("jobs.lost > 0"), SUMMARY).result == "fail"
    relative = gate("errors_by_path.unified.rate <= errors_by_path.legacy.rate * 1.10 + 0.01")
    assert evaluate(relative, SUMMARY).result == "pass"


def test_no_evidence_is_inconclusive_never_a_pass() -> None:
    few = gate("jobs.lost == 0", min_samples=50)
    assert evaluate(few, SUMMARY).result == "inconclusive"
    absent = evaluate(gate("metrics.nope < 1"), SUMMARY)
    assert absent.result == "inconclusive" and "metrics.nope" in absent.note
    dead_sampler = gate("infrastructure.redis_failures == 0", samples_path="infrastructure.redis_samples")
    assert evaluate(dead_sampler, SUMMARY).result == "inconclusive"
    count_missing = gate("jobs.lost == 0", samples_path="jobs.nope")
    assert evaluate(count_missing, SUMMARY).result == "inconclusive"


def _latencies(n: int, slow_share: float, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(1000, 3000) if rng.random() < slow_share else rng.uniform(5, 60) for _ in range(n)]


def _p99_gate() -> Gate:
    return gate("metrics.job_latency_ms.unified.p99 < 1000", samples_path="metrics.job_latency_ms.unified.count")


def _judge(values: list[float]) -> GateResult:
    summary = {"metrics": {"job_latency_ms": {"unified": {"p99": sorted(values)[int(0.99 * len(values)) - 1],
                                                          "count": len(values)}}}}
    return evaluate(_p99_gate(), summary, {"metrics.job_latency_ms.unified": values})


def test_a_p99_of_50_samples_cannot_pass() -> None:
    result = _judge(_latencies(50, 0.0))
    assert result.result == "inconclusive"
    assert result.needed is not None and 290 <= result.needed <= 320  # 1 - 0.99^n >= 0.95 -> n >= 299
    assert "would decide" in result.note


def test_a_p99_is_judged_by_its_bound() -> None:
    healthy = _judge(_latencies(600, 0.0))
    assert healthy.result == "pass" and healthy.bound is not None and healthy.bound < 1000
    slow = _judge(_latencies(600, 0.05))
    assert slow.result == "fail" and slow.bound is not None and slow.bound >= 1000
    borderline = _judge(_latencies(600, 0.01, seed=3))
    assert borderline.result in ("inconclusive", "pass", "fail")
    assert "95 % bounds" in borderline.note


def test_quantile_against_quantile_needs_both_bounds_apart() -> None:
    rng = random.Random(2)
    unified = [rng.uniform(5, 40) for _ in range(200)]
    legacy = [rng.uniform(5000, 9000) for _ in range(200)]
    improved = gate("metrics.job_latency_ms.unified.p50 < metrics.job_latency_ms.legacy.p50",
                    samples_path="metrics.job_latency_ms.unified.count")
    samples = {"metrics.job_latency_ms.unified": unified, "metrics.job_latency_ms.legacy": legacy}
    assert evaluate(improved, SUMMARY, samples).result == "pass"
    same = {"metrics.job_latency_ms.unified": unified, "metrics.job_latency_ms.legacy": list(reversed(unified))}
    assert evaluate(improved, SUMMARY, same).result == "inconclusive"


def test_gates_of_other_weeks_are_listed_as_not_applicable_with_why() -> None:
    week7 = gate("jobs.lost == 0", weeks=(7,), not_applicable="scheduled_jobs is still in use")
    (result,) = evaluate_all([week7], SUMMARY, 5)
    assert result.result == "n/a" and "scheduled_jobs is still in use" in result.note


def test_a_gate_that_cannot_be_evaluated_is_an_error_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_bench.judge import gates as gates_module

    def broken(*_: object, **__: object) -> GateResult:
        raise TypeError("boom")

    monkeypatch.setattr(gates_module, "evaluate", broken)
    (result,) = evaluate_all([gate("jobs.lost == 0")], SUMMARY, 5)
    assert result.result == "error" and "boom" in result.note
    assert decide([result]).verdict == "INCONCLUSIVE"


def result(outcome: str, kind: str = "target") -> GateResult:
    return GateResult("g", kind, "< 1", 2.0, 100, outcome)


def test_each_verdict_and_its_exit_code() -> None:
    assert decide([result("pass"), result("pass"), result("n/a")]).verdict == "PROMOTE"
    assert decide([result("pass"), result("inconclusive")]).verdict == "INCONCLUSIVE"
    assert decide([result("fail"), result("inconclusive")]).verdict == "HOLD"
    assert decide([result("fail"), result("fail", "rollback")]).verdict == "ROLLBACK"
    assert decide([result("fail"), result("fail", "validity")], ["generator too slow"]).verdict == "INCONCLUSIVE"
    assert decide([result("fail", "validity")], ["generator too slow"]).reasons[0] == "generator too slow"
    # a saturated run cannot be judged, so an accuracy or latency miss there is no ROLLBACK...
    assert decide([result("fail", "rollback"), result("fail", "validity")]).verdict == "INCONCLUSIVE"
    # ...but lost data is lost whatever the machine did
    assert decide([result("fail", "integrity"), result("fail", "validity")]).verdict == "ROLLBACK"
    codes = {v: decide([result(*args)]).exit_code
             for v, args in {"PROMOTE": ("pass",), "HOLD": ("fail",), "ROLLBACK": ("fail", "rollback"),
                             "INCONCLUSIVE": ("inconclusive",)}.items()}
    assert codes == {"PROMOTE": 0, "HOLD": 1, "ROLLBACK": 3, "INCONCLUSIVE": 4}
