"""Gates as short parsed expressions (no eval), loaded from ops/gates.toml.

Grammar:  PATH OP NUMBER  |  PATH OP PATH [* NUMBER] [+ NUMBER]
PATH is a dotted path into summary.json; OP one of < <= > >= == !=.
"""

from __future__ import annotations

import math
import operator
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout_bench.errors import UserError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
KINDS = ("target", "rollback")
_TOKEN = re.compile(r"\s*(<=|>=|==|!=|<|>|\*|\+|[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?)")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_NUMBER = re.compile(r"-?\d+(\.\d+)?$")


class MissingMetric(KeyError):
    pass


@dataclass(frozen=True)
class Expression:
    left: str
    op: str
    right_path: str | None
    factor: float
    offset: float

    def text(self) -> str:
        if self.right_path is None:
            return f"{self.op} {self.offset:g}"
        scaled = f"{self.right_path} * {self.factor:g}" if self.factor != 1 else self.right_path
        return f"{self.op} {scaled}" + (f" + {self.offset:g}" if self.offset else "")


def _tokens(text: str, where: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise UserError(f"{where}: cannot read {text[pos:].split()[0]!r} in {text!r}; "
                            f"allowed: dotted paths, numbers, {' '.join(OPERATORS)} * +")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def parse_expression(text: str, where: str = "gate") -> Expression:
    tokens = _tokens(text, where)
    if len(tokens) < 3 or not _PATH.match(tokens[0]) or tokens[1] not in OPERATORS:
        raise UserError(f"{where}: {text!r} is not 'PATH OP VALUE' (OP one of {' '.join(OPERATORS)})")
    rest = tokens[2:]
    if len(rest) == 1 and _NUMBER.match(rest[0]):
        return Expression(tokens[0], tokens[1], None, 1.0, float(rest[0]))
    if not _PATH.match(rest[0]) or _NUMBER.match(rest[0]):
        raise UserError(f"{where}: {rest[0]!r} in {text!r} is neither a number nor a path")
    factor, offset, i = 1.0, 0.0, 1
    if i < len(rest) and rest[i] == "*":
        if i + 1 >= len(rest) or not _NUMBER.match(rest[i + 1]):
            raise UserError(f"{where}: '*' in {text!r} must be followed by a number")
        factor, i = float(rest[i + 1]), i + 2
    if i < len(rest) and rest[i] == "+":
        if i + 1 >= len(rest) or not _NUMBER.match(rest[i + 1]):
            raise UserError(f"{where}: '+' in {text!r} must be followed by a number")
        offset, i = float(rest[i + 1]), i + 2
    if i != len(rest):
        raise UserError(f"{where}: unexpected {rest[i]!r} in {text!r}")
    return Expression(tokens[0], tokens[1], rest[0], factor, offset)


def lookup(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise MissingMetric(path)
        node = node[part]
    return node


@dataclass(frozen=True)
class Gate:
    name: str
    expression: Expression
    kind: str = "target"
    samples_path: str | None = None
    min_samples: int = 0
    weeks: tuple[int, ...] = ()
    when_present: str | None = None

    def applies_to(self, week: int) -> bool:
        return not self.weeks or week in self.weeks


@dataclass(frozen=True)
class GateResult:
    name: str
    kind: str
    target: str
    observed: float | None
    samples: int | None
    result: str  # 'pass' | 'fail' | 'inconclusive' | 'skipped'
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "target": self.target, "observed": self.observed,
                "samples": self.samples, "result": self.result, "passed": self.passed, "note": self.note}


def load_gates(path: Path) -> list[Gate]:
    if not path.is_file():
        raise UserError(f"gate file {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    allowed = {"name", "expr", "kind", "samples", "min_samples", "weeks", "when_present"}
    gates = []
    for number, entry in enumerate(raw.get("gate", []), start=1):
        where = f"{path.name} gate {number} ({entry.get('name', '?')})"
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise UserError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
        if "name" not in entry or "expr" not in entry:
            raise UserError(f"{where}: needs 'name' and 'expr'")
        kind = entry.get("kind", "target")
        if kind not in KINDS:
            raise UserError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        gates.append(Gate(entry["name"], parse_expression(entry["expr"], where), kind, entry.get("samples"),
                          int(entry.get("min_samples", 0)), tuple(entry.get("weeks", ())), entry.get("when_present")))
    if not gates:
        raise UserError(f"{path}: no [[gate]] entries")
    return gates


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"metric {path} is {value!r}, not a number")
    return float(value)


def evaluate(gate: Gate, summary: Mapping[str, Any]) -> GateResult:
    e = gate.expression
    target = e.text()
    if gate.when_present:
        try:
            if lookup(summary, gate.when_present) is None:
                return GateResult(gate.name, gate.kind, target, None, None, "skipped", "not measured in this run")
        except MissingMetric:
            return GateResult(gate.name, gate.kind, target, None, None, "skipped", "not measured in this run")
    try:
        samples = int(lookup(summary, gate.samples_path)) if gate.samples_path else None
        observed_raw = lookup(summary, e.left)
    except MissingMetric as exc:
        raise UserError(f"gate {gate.name!r}: metric {exc.args[0]} is not in the summary") from None
    if samples is not None and samples < gate.min_samples:
        return GateResult(gate.name, gate.kind, target, None, samples, "inconclusive",
                          f"{samples} samples, {gate.min_samples} needed")
    if observed_raw is None:
        return GateResult(gate.name, gate.kind, target, None, samples, "inconclusive", "no value")
    observed = _number(observed_raw, e.left)
    bound = e.offset if e.right_path is None else _number(lookup(summary, e.right_path), e.right_path) * e.factor + e.offset
    ok = OPERATORS[e.op](observed, bound) and not math.isnan(observed)
    note = "" if e.right_path is None else f"bound {bound:.4g}"
    return GateResult(gate.name, gate.kind, target, observed, samples, "pass" if ok else "fail", note)


def evaluate_all(gates: list[Gate], summary: Mapping[str, Any], week: int) -> list[GateResult]:
    return [evaluate(g, summary) for g in gates if g.applies_to(week)]
