"""Attributes pg_stat_statements entries to the pipeline's statement files, on any
PostgreSQL version.

The pipeline tags each statement with a leading `/* name */` comment, but PostgreSQL 18
stores statement texts without it, and two files with the same parse tree share one
entry on every version. So an entry is matched by its text: both the entry and each
`.sql` file are normalised the same way (comments dropped, every placeholder and
constant turned into `?`, lists of them squashed as PostgreSQL 18 does, spaces folded,
lower case). Files whose normalised texts are equal form one named group ("a+b"): the
cross-check counts the group's calls against the group's statements, never guesses.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+")
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?(?![\w.])")
_KEYWORD_CONSTANT = re.compile(r"\b(?:true|false|null)\b")
_LIST = re.compile(r"\?(?:\s*,\s*\?)+")
_SPACE = re.compile(r"\s+")
_PUNCTUATION_SPACE = re.compile(r"\s*([(),=<>:+*/\[\]-])\s*")


def normalise(text: str) -> str:
    text = _BLOCK_COMMENT.sub(" ", text)
    text = _LINE_COMMENT.sub(" ", text)
    text = _STRING.sub("?", text).replace("%%", "%")
    text = _PLACEHOLDER.sub("?", text).lower()
    text = _KEYWORD_CONSTANT.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _SPACE.sub(" ", text)
    text = _PUNCTUATION_SPACE.sub(r"\1", text)
    text = _LIST.sub("?", text)
    return text.strip().rstrip(";").strip()


def pipeline_statement_files(package: str = "msp_pipeline") -> dict[str, str]:
    """name ('unified/context_entities') -> text, for every file under <package>/sql/."""
    root = resources.files(package) / "sql"
    found: dict[str, str] = {}

    def walk(folder, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for item in folder.iterdir():
            if item.is_dir():
                walk(item, f"{prefix}{item.name}/")
            elif item.name.endswith(".sql"):
                found[f"{prefix}{item.name.removesuffix('.sql')}"] = item.read_text()

    walk(root, "")
    return found


@dataclass
class Attribution:
    """Calls per group of statement files ('a' or 'a+b' when two files share a text)."""

    calls: dict[str, int] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # every group, matched or not
    unmatched_entries: int = 0

    @property
    def matched_groups(self) -> int:
        return sum(1 for calls in self.calls.values() if calls > 0)


def groups_of(files: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """normalised text -> the sorted names of the files that have it."""
    by_text: dict[str, list[str]] = defaultdict(list)
    for name, text in files.items():
        by_text[normalise(text)].append(name)
    return {text: tuple(sorted(names)) for text, names in by_text.items()}


def attribute(entries: Iterable[tuple[str, int]], files: Mapping[str, str]) -> Attribution:
    """entries: (query text, calls) rows of pg_stat_statements for the run's database."""
    groups = groups_of(files)
    out = Attribution(groups={"+".join(names): names for names in groups.values()})
    out.calls = {name: 0 for name in out.groups}
    for query, calls in entries:
        names = groups.get(normalise(query))
        if names is None:
            out.unmatched_entries += 1
            continue
        out.calls["+".join(names)] += int(calls)
    return out


# Statements the unified path issues outside analyses (queue hand-over, worker book-keeping).
NON_ANALYSIS_STATEMENTS = frozenset({"unified/handover_scheduled_job", "unified/previous_attempt_finished",
                                     "unified/repeatable_sources"})
ANALYSIS_PREFIXES = {"unified": "unified/", "legacy": "legacy/analyzers/"}
PATHS = ("legacy", "unified")


def _counts_for(path: str, names: tuple[str, ...]) -> bool:
    return all(n.startswith(ANALYSIS_PREFIXES[path]) and n not in NON_ANALYSIS_STATEMENTS for n in names)


def queries_check(counted_by_path: Mapping[str, int], attribution: Attribution | None,
                  why_not: str = "") -> dict[str, object]:
    """Per path: statements counted per analysis by the pipeline against pg_stat_statements'
    calls of the same statement files over the run (the gate wants them within 5 %).
    No attribution (the extension absent, entries evicted) or no matched file leaves the
    deviation null, with the reason: the gate is then INCONCLUSIVE, never FAIL."""
    out: dict[str, object] = {"pg_stat_statements": attribution is not None, "reason": why_not}
    for path in PATHS:
        counted = int(counted_by_path.get(path, 0))
        entry: dict[str, object] = {"counted": counted, "pg_stat_statements": None, "deviation": None,
                                    "matched_files": 0, "groups": []}
        out[path] = entry
        if attribution is None or counted == 0:
            continue
        mine = {group: calls for group, calls in attribution.calls.items()
                if _counts_for(path, attribution.groups[group])}
        matched = {group: calls for group, calls in mine.items() if calls > 0}
        entry["matched_files"] = sum(len(attribution.groups[g]) for g in matched)
        entry["groups"] = sorted(g for g in matched if "+" in g)
        if not matched:
            entry["reason"] = "no pg_stat_statements entry matched a statement file of this path"
            continue
        seen = sum(matched.values())
        entry["pg_stat_statements"] = seen
        entry["deviation"] = round(abs(seen - counted) / counted, 4)
    return out
