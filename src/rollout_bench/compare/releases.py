"""Comparison across releases: load the runs of each side (a stored release has several,
a run is one), refuse a different context, and compare run-level (rows.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from rollout_bench.compare.context import differences
from rollout_bench.compare.rows import DEFAULT_FACTOR, Row, compare_runs
from rollout_bench.results.store import read_samples, read_summary, releases, run_dirs


@dataclass(frozen=True)
class ResultSet:
    name: str
    directory: Path
    summaries: list[dict[str, Any]]
    samples: list[dict[str, Any]]

    @property
    def context(self) -> dict[str, Any]:
        return self.summaries[-1]


def load(directory: Path) -> ResultSet:
    runs = run_dirs(directory)
    return ResultSet(directory.name, directory, [read_summary(r) for r in runs], [read_samples(r) for r in runs])


@dataclass(frozen=True)
class Comparison:
    base: ResultSet
    head: ResultSet
    rows: list[Row]
    refusing: list[str] = field(default_factory=list)
    other_differences: list[str] = field(default_factory=list)
    factor: float = DEFAULT_FACTOR

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "regression"]


def context_differences(base: ResultSet, head: ResultSet) -> tuple[list[str], list[str]]:
    """Differences against the head's context, from every run of both sides (a release whose
    own runs differ is refused as well)."""
    refusing: list[str] = []
    other: list[str] = []
    for summary in (*base.summaries, *head.summaries[:-1]):
        r, o = differences(summary, head.context)
        refusing += [d for d in r if d not in refusing]
        other += [d for d in o if d not in other]
    return refusing, other


def spread_sets(context: dict[str, Any], exclude: Sequence[Path], root: Path | None = None) -> list[ResultSet]:
    """Other stored releases with >= 2 runs, every one of this context."""
    out = []
    for directory in releases(root):
        if any(directory.resolve() == e.resolve() for e in exclude) or len(run_dirs(directory)) < 2:
            continue
        stored = load(directory)
        if all(not differences(run, context)[0] for run in stored.summaries):
            out.append(stored)
    return out


def compare_sets(base: ResultSet, head: ResultSet, factor: float = DEFAULT_FACTOR,
                 spread: Sequence[ResultSet] = ()) -> Comparison:
    refusing, other = context_differences(base, head)
    rows = compare_runs(base.samples, head.samples, factor, spread=[s.samples for s in spread])
    return Comparison(base, head, rows, refusing, other, factor)


def compare_dirs(base_dir: Path, head_dir: Path, factor: float = DEFAULT_FACTOR) -> Comparison:
    base, head = load(base_dir), load(head_dir)
    return compare_sets(base, head, factor, spread_sets(head.context, [base_dir, head_dir]))


def consecutive(release_dirs: Sequence[Path], factor: float = DEFAULT_FACTOR) -> list[Comparison]:
    """Each stored release compared with the one before it (for the trend plot)."""
    sets = [load(d) for d in release_dirs]
    return [compare_sets(a, b, factor) for a, b in pairwise(sets)]


__all__ = ["Comparison", "ResultSet", "compare_dirs", "compare_sets", "consecutive", "load"]
