"""summary.json (schema 1, docs/architecture.md) and a validator for the subset of JSON Schema its
schema file uses (type, required, properties, items, const, enum, minimum, maximum, $ref)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_VERSION = 1
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


@cache
def schema() -> dict[str, Any]:
    return json.loads((resources.files("rollout_bench.results") / "summary.schema.json").read_text())


def validate(document: Any, node: dict[str, Any] | None = None, where: str = "$") -> list[str]:
    """Problems found (empty = valid)."""
    root = schema()
    node = root if node is None else node
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return validate(document, target, where)
    problems: list[str] = []
    kind = node.get("type")
    if kind:
        ok = isinstance(document, _TYPES[kind]) and not (kind in ("integer", "number") and isinstance(document, bool))
        if not ok:
            return [f"{where}: expected {kind}, got {type(document).__name__}"]
    if "const" in node and document != node["const"]:
        problems.append(f"{where}: expected {node['const']!r}")
    if "enum" in node and document not in node["enum"]:
        problems.append(f"{where}: {document!r} not in {node['enum']}")
    if "minimum" in node and isinstance(document, (int, float)) and document < node["minimum"]:
        problems.append(f"{where}: {document} < {node['minimum']}")
    if "maximum" in node and isinstance(document, (int, float)) and document > node["maximum"]:
        problems.append(f"{where}: {document} > {node['maximum']}")
    if isinstance(document, dict):
        problems += [f"{where}: missing {key!r}" for key in node.get("required", []) if key not in document]
        for key, sub in node.get("properties", {}).items():
            if key in document:
                problems += validate(document[key], sub, f"{where}.{key}")
    if isinstance(document, list) and "items" in node:
        for index, item in enumerate(document):
            problems += validate(item, node["items"], f"{where}[{index}]")
    return problems
