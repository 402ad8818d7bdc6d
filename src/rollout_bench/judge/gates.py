"""Gates loaded from ops/gates.toml and judged on the summary and the raw samples.

Every gate states its evidence: `samples` names the count it stands on (min_samples, at
least 1). No evidence (the count or the metric absent or null, a process not scraped, a
sampler that died) is INCONCLUSIVE, never PASS. A percentile gate (`...p99 < 1000`) is
judged by a 95 % distribution-free confidence bound of that quantile (`bounds.py`): PASS
when the upper bound is below the target, FAIL when the lower bound is at or above it,
else INCONCLUSIVE with the number of samples that would decide it.

Kinds: `target` (a miss -> HOLD), `rollback` (a miss -> ROLLBACK), `integrity` (a miss ->
ROLLBACK even on a run that cannot otherwise be judged: data lost, rows across tenants),
`validity` (a miss means the run cannot be judged -> INCONCLUSIVE, e.g. a saturated machine
or load generator).
A gate with `weeks` lists the weeks it applies to and says why in `not_applicable`; a gate
with `not_applicable_if` names a summary path whose text, when there is one, makes it n/a
and says why (the regression gate of a series' earlier runs: the last run judges it).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout_bench.collect.bounds import QuantileBound, quantile_bound, samples_to_pass
from rollout_bench.errors import UserError
from rollout_bench.judge.expressions import (
    OPERATORS,
    Expression,
    MissingMetric,
    lookup,
    parse_expression,
    quantile_of,
)

KINDS = ("target", "rollback", "integrity", "validity")
RESULTS = ("pass", "fail", "inconclusive", "n/a", "error")
_ALLOWED_KEYS = {"name", "expr", "kind", "samples", "min_samples", "weeks", "not_applicable", "not_applicable_if"}
Samples = Mapping[str, Sequence[float]]  # raw samples by the dotted path of their summary node


@dataclass(frozen=True)
class Gate:
    name: str
    expression: Expression
    kind: str = "target"
    samples_path: str | None = None
    min_samples: int = 1
    weeks: tuple[int, ...] = ()
    not_applicable: str = ""
    not_applicable_if: str | None = None  # a summary path: a non-empty text there makes the gate n/a, saying it

    def applies_to(self, week: int) -> bool:
        return not self.weeks or week in self.weeks

    def paths(self) -> list[str]:
        e = self.expression
        return [p for p in (e.left, e.right_path, self.samples_path, self.not_applicable_if) if p]


@dataclass(frozen=True)
class GateResult:
    name: str
    kind: str
    target: str
    observed: float | None
    samples: int | None
    result: str  # one of RESULTS
    note: str = ""
    bound: float | None = None  # the confidence bound that decided a percentile gate
    needed: int | None = None  # samples that would decide an undecided percentile gate
    metric: str = ""  # the summary path the gate judges (its expression's left side)

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "target": self.target, "observed": self.observed,
                "samples": self.samples, "result": self.result, "passed": self.passed, "note": self.note,
                "bound": self.bound, "needed": self.needed, "metric": self.metric}


def load_gates(path: Path, known_path: Callable[[str], bool] | None = None) -> list[Gate]:
    """Parses and checks every gate; with `known_path`, every path a gate names (both sides
    and its sample count) must be one the summary schema describes."""
    if not path.is_file():
        raise UserError(f"gate file {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    gates = [_gate(entry, f"{path.name} gate {number} ({entry.get('name', '?')})")
             for number, entry in enumerate(raw.get("gate", []), start=1)]
    if not gates:
        raise UserError(f"{path}: no [[gate]] entries")
    for gate in gates:
        for key in gate.paths():
            if known_path is not None and not known_path(key):
                raise UserError(f"{path.name} gate {gate.name!r}: {key!r} is not a summary.json path "
                                f"(see src/rollout_bench/results/summary.schema.json)")
    return gates


def _gate(entry: Mapping[str, Any], where: str) -> Gate:
    unknown = sorted(set(entry) - _ALLOWED_KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_ALLOWED_KEYS))}")
    if "name" not in entry or "expr" not in entry:
        raise UserError(f"{where}: needs 'name' and 'expr'")
    if "samples" not in entry:
        raise UserError(f"{where}: needs 'samples', the count of evidence it stands on")
    kind = entry.get("kind", "target")
    if kind not in KINDS:
        raise UserError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    min_samples = entry.get("min_samples", 1)
    if not isinstance(min_samples, int) or isinstance(min_samples, bool) or min_samples < 1:
        raise UserError(f"{where}: min_samples {min_samples!r} is not allowed; use a whole number >= 1")
    weeks = tuple(entry.get("weeks", ()))
    if weeks and not entry.get("not_applicable"):
        raise UserError(f"{where}: lists weeks, so it needs 'not_applicable' saying why the other weeks skip it")
    skip = entry.get("not_applicable_if")
    if skip is not None and not isinstance(skip, str):
        raise UserError(f"{where}: not_applicable_if {skip!r} is not allowed; name a summary path")
    return Gate(entry["name"], parse_expression(entry["expr"], where), kind, entry["samples"], min_samples, weeks,
                str(entry.get("not_applicable", "")), skip)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _bound_of(path: str, samples: Samples) -> QuantileBound | None:
    found = quantile_of(path)
    if found is None or found[0] not in samples:
        return None
    return quantile_bound(samples[found[0]], found[1])


def evaluate(gate: Gate, summary: Mapping[str, Any], samples: Samples | None = None) -> GateResult:
    """One gate's result; never raises on what the run measured."""
    e, raw = gate.expression, samples or {}
    target = e.text()

    def result(outcome: str, observed: float | None = None, count: int | None = None, note: str = "",
               **extra: Any) -> GateResult:
        return GateResult(gate.name, gate.kind, target, observed, count, outcome, note, metric=e.left, **extra)

    try:
        count_value = lookup(summary, gate.samples_path) if gate.samples_path else None
        observed = _number(lookup(summary, e.left))
        right = None if e.right_path is None else _number(lookup(summary, e.right_path))
    except MissingMetric as exc:
        return result("inconclusive", note=f"no evidence: {exc.args[0]} is not in the summary")
    count = _number(count_value)
    if count is None:
        return result("inconclusive", note=f"no evidence: {gate.samples_path} is {count_value!r}")
    n = int(count)
    if n < gate.min_samples:
        return result("inconclusive", observed, n, f"{n} samples, {gate.min_samples} needed")
    if observed is None or (e.right_path is not None and right is None):
        missing = e.left if observed is None else e.right_path
        return result("inconclusive", observed, n, f"no value for {missing}")
    assert e.right_path is None or right is not None
    limit = e.offset if right is None else right * e.factor + e.offset
    left_bound = _bound_of(e.left, raw) if e.op in ("<", "<=", ">", ">=") else None
    if left_bound is not None:
        right_bound = _bound_of(e.right_path, raw) if e.right_path else None
        return _judge_bounds(gate, left_bound, right_bound, limit, raw, result)
    ok = OPERATORS[e.op](observed, limit)
    note = "" if right is None else f"limit {limit:.4g}"
    return result("pass" if ok else "fail", observed, n, note)


def _judge_bounds(gate: Gate, left: QuantileBound, right: QuantileBound | None, limit: float, raw: Samples,
                  result: Callable[..., GateResult]) -> GateResult:
    """`pXX < limit` (or >): decided only where the 95 % bounds agree."""
    e = gate.expression
    below = e.op in ("<", "<=")
    if right is not None:  # a quantile against a quantile: the far bound of each side
        far = right.lower if below else right.upper
        near = right.upper if below else right.lower
        pass_limit = None if far is None else far * e.factor + e.offset
        fail_limit = None if near is None else near * e.factor + e.offset
    else:
        pass_limit = fail_limit = limit
    decisive, opposite = (left.upper, left.lower) if below else (left.lower, left.upper)
    compare = OPERATORS[e.op]
    text = f"estimate {left.estimate:.4g}, 95 % bounds [{_fmt(left.lower)}, {_fmt(left.upper)}], n={left.n}"
    if decisive is not None and pass_limit is not None and compare(decisive, pass_limit):
        return result("pass", left.estimate, left.n, text, bound=decisive)
    if opposite is not None and fail_limit is not None and not compare(opposite, fail_limit):
        return result("fail", left.estimate, left.n, text, bound=opposite)
    needed = None
    parent = quantile_of(e.left)
    if parent and right is None and below:
        needed = samples_to_pass(raw[parent[0]], left.quantile, limit)
    more = f"; about {needed} samples would decide it" if needed else ""
    return result("inconclusive", left.estimate, left.n, f"undecided: {text}{more}", bound=decisive, needed=needed)


def _optional(summary: Mapping[str, Any], path: str | None) -> Any:
    try:
        return lookup(summary, path) if path else None
    except MissingMetric:
        return None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def evaluate_all(gates: Sequence[Gate], summary: Mapping[str, Any], week: int,
                 samples: Samples | None = None) -> list[GateResult]:
    """Every gate: judged, or n/a for this week with the reason."""
    out = []
    for gate in gates:
        if not gate.applies_to(week):
            out.append(GateResult(gate.name, gate.kind, gate.expression.text(), None, None, "n/a",
                                  f"week {week}: {gate.not_applicable}", metric=gate.expression.left))
            continue
        skipped = _optional(summary, gate.not_applicable_if)
        if isinstance(skipped, str) and skipped:
            out.append(GateResult(gate.name, gate.kind, gate.expression.text(), None, None, "n/a", skipped,
                                  metric=gate.expression.left))
            continue
        try:
            out.append(evaluate(gate, summary, samples))
        except (TypeError, ValueError, ArithmeticError, KeyError) as exc:  # a result, never a crash
            out.append(GateResult(gate.name, gate.kind, gate.expression.text(), None, None, "error",
                                  f"could not be evaluated: {type(exc).__name__}: {exc}", metric=gate.expression.left))
    return out
