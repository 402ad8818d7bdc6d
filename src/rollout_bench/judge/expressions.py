"""Gate expressions: short, parsed (never eval'd), over dotted paths of summary.json.

Grammar:  PATH OP NUMBER  |  PATH OP PATH [* NUMBER] [+ NUMBER]
PATH is a dotted path into summary.json; OP one of < <= > >= == !=.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rollout_bench.errors import UserError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
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


_QUANTILE = re.compile(r"^(?P<parent>.+)\.p(?P<digits>\d{2,3})$")


def quantile_of(path: str) -> tuple[str, float] | None:
    """'metrics.job_latency_ms.unified.p99' -> ('metrics.job_latency_ms.unified', 0.99)."""
    match = _QUANTILE.match(path)
    if not match:
        return None
    digits = match["digits"]
    return match["parent"], int(digits) / (10 ** len(digits))
