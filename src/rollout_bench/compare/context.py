"""Whether two results may be compared at all: the context each summary records.

Refusing differences (apples and oranges): the machine (host, CPU model and count), the
resolved stack mode, the major version of each server (PostgreSQL, Redis, NATS), the
profile and the week (a different load). Everything else that differs (library versions,
Python, git commit, seed, minor server versions) is listed but does not refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

REFUSING = (("machine", "hostname"), ("machine", "cpu_model"), ("machine", "cpus"), ("stack",),
            ("servers", "postgres", "major"), ("servers", "redis", "major"), ("servers", "nats", "major"),
            ("profile",), ("week",))
LISTED = (("machine", "python"), ("git_sha",), ("seed",), ("servers", "postgres"), ("servers", "redis"),
          ("servers", "nats"))


def major(version: Any) -> str | None:
    """'15.4 (Debian ...)' -> '15'; an unknown or missing version stays as it is."""
    if not isinstance(version, str) or not version or not version[0].isdigit():
        return None if version is None else str(version)
    return version.split(".")[0].split(" ")[0]


def _value(summary: Mapping[str, Any], keys: Sequence[str]) -> Any:
    if keys[0] == "servers" and len(keys) == 3:
        return major(summary.get("servers", {}).get(keys[1]))
    node: Any = summary
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def differences(base: Mapping[str, Any], head: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(refusing differences, other differences), each as 'key: base vs head'."""
    def text(keys: Sequence[str], b: Any, h: Any) -> str:
        return f"{'.'.join(keys)}: {b!r} vs {h!r}"

    refusing = [text(keys, _value(base, keys), _value(head, keys)) for keys in REFUSING
                if _value(base, keys) != _value(head, keys)]
    other = [text(keys, _value(base, keys), _value(head, keys)) for keys in LISTED
             if _value(base, keys) != _value(head, keys)]
    libraries_b, libraries_h = base.get("libraries", {}) or {}, head.get("libraries", {}) or {}
    for name in sorted(set(libraries_b) | set(libraries_h)):
        if libraries_b.get(name) != libraries_h.get(name):
            other.append(text(("libraries", name), libraries_b.get(name), libraries_h.get(name)))
    return refusing, other


def same_context(base: Mapping[str, Any], head: Mapping[str, Any]) -> bool:
    return not differences(base, head)[0]


def refusal(refusing: Sequence[str]) -> str:
    """The one line `compare` exits 2 with."""
    return (f"results differ in context ({'; '.join(refusing)}); compare results of one machine, stack, "
            "server major versions, profile and week, or pass --force to compare anyway")


__all__ = ["differences", "major", "refusal", "same_context"]
