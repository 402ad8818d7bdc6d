"""summary.json (schema 2, described in summary.schema.json) and a validator for the subset of
JSON Schema its schema file uses (type or a list of types, required, properties,
additionalProperties, items, const, enum, minimum, maximum, $ref), plus `describes(path)`:
whether a gate may name a path."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_VERSION = 2
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


@cache
def schema() -> dict[str, Any]:
    return json.loads((resources.files("rollout_bench.results") / "summary.schema.json").read_text())


def _is(document: Any, kind: str) -> bool:
    return isinstance(document, _TYPES[kind]) and not (kind in ("integer", "number") and isinstance(document, bool))


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
    kinds = node.get("type")
    if kinds:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(document, kind) for kind in kinds):
            return [f"{where}: expected {' or '.join(kinds)}, got {type(document).__name__}"]
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
        properties = node.get("properties", {})
        for key, sub in properties.items():
            if key in document:
                problems += validate(document[key], sub, f"{where}.{key}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for key in document.keys() - properties.keys():
                problems += validate(document[key], extra, f"{where}.{key}")
    if isinstance(document, list) and "items" in node:
        for index, item in enumerate(document):
            problems += validate(item, node["items"], f"{where}[{index}]")
    return problems


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def describes(path: str) -> bool:
    """True when the schema describes the dotted path (through properties, or an
    `additionalProperties` schema for maps keyed by name): what a gate may name."""
    node = _resolve(schema())
    for part in path.split("."):
        properties = node.get("properties", {})
        if part in properties:
            node = _resolve(properties[part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(node["additionalProperties"])
        else:
            return False
    return True
