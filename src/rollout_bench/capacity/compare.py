"""Capacity results compared across releases, with the knee's own uncertainty.

A knee is only known to within its bracket (highest sustainable .. lowest unsustainable
arrival rate) and its repeats: when a repetition at the knee's rate failed, the rate is not
reliably sustainable and the interval reaches down to the highest rate sustained in every
run of it. Several results of one path, week, workers and arrivals on one side (repeated
searches) give the hull of their intervals and the median knee. A change is flagged only
when the two sides' intervals do not overlap AND the ratio of the knees passes the factor
(default 1.10, as for latency); otherwise "no change" or "not significant". Results of
another machine, stack, server major versions or profile (compare/context.py's check), or
of another path, week, workers or arrival process, are refused unless forced.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rollout_bench.capacity.result import CapacityResult
from rollout_bench.compare.context import differences
from rollout_bench.compare.rows import DEFAULT_FACTOR
from rollout_bench.errors import UserError

Key = tuple[str, int, int, str]  # path, week, workers, arrivals
KEY_FIELDS = ("path", "week", "workers", "arrivals")


@dataclass(frozen=True)
class KneeInterval:
    """Where one result's capacity lies, in syncs/s: low .. high (None: never failed)."""

    low: float
    knee: float | None  # None: not even the first step was sustainable
    high: float | None
    jobs_per_sync: float | None
    note: str = ""


def _solid_rates(result: CapacityResult) -> list[float]:
    """Rates at which every step run (first run and repetitions) was sustainable."""
    by_rate: dict[float, list[bool]] = {}
    for step in result.steps:
        by_rate.setdefault(step.repeat_of if step.repeat_of is not None else step.rate_syncs_per_s,
                           []).append(step.sustainable)
    return sorted(rate for rate, passed in by_rate.items() if all(passed))


def knee_interval(result: CapacityResult) -> KneeInterval | None:
    """None when the search ran no step at all (nothing is known)."""
    knee = result.knee
    if knee is None:
        if not result.steps:
            return None
        lowest = min(step.rate_syncs_per_s for step in result.steps)
        return KneeInterval(0.0, None, lowest, None, f"no sustainable step: capacity below {rate_text(lowest)} syncs/s")
    jobs_per_sync = knee.jobs_per_s / knee.syncs_per_s if knee.syncs_per_s else None
    if knee.repeats and knee.repeats_sustainable < knee.repeats:
        below = [rate for rate in _solid_rates(result) if rate < knee.syncs_per_s]
        low = below[-1] if below else 0.0
        return KneeInterval(low, knee.syncs_per_s, knee.bracket[1], jobs_per_sync,
                            f"knee's repeats {knee.repeats_sustainable}/{knee.repeats} sustainable: interval from "
                            f"{rate_text(low)} syncs/s")
    note = "" if knee.repeats else "knee not repeated: its run-to-run spread is unknown"
    return KneeInterval(knee.bracket[0], knee.syncs_per_s, knee.bracket[1], jobs_per_sync, note)


@dataclass(frozen=True)
class Side:
    results: int
    knee: float | None  # median of the knees found
    low: float
    high: float | None
    notes: tuple[str, ...] = ()


def side_of(results: Sequence[CapacityResult]) -> Side | None:
    intervals = [i for i in (knee_interval(r) for r in results) if i is not None]
    if not intervals:
        return None
    knees = [i.knee for i in intervals if i.knee is not None]
    highs = [i.high for i in intervals]
    return Side(len(intervals), statistics.median(knees) if knees else None, min(i.low for i in intervals),
                None if any(h is None for h in highs) else max(h for h in highs if h is not None),
                tuple(dict.fromkeys(i.note for i in intervals if i.note)))


@dataclass(frozen=True)
class CapacityRow:
    path: str
    week: int
    workers: int
    arrivals: str
    base: Side | None
    head: Side | None
    ratio: float | None  # head knee / base knee
    verdict: str  # regression | improvement | no change | not significant | no knee | no data
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def key_of(result: CapacityResult) -> Key:
    return (result.path, result.week, result.workers, result.arrivals)


def _grouped(results: Sequence[CapacityResult]) -> dict[Key, list[CapacityResult]]:
    groups: dict[Key, list[CapacityResult]] = {}
    for result in results:
        groups.setdefault(key_of(result), []).append(result)
    return groups


def _pairs(base: Sequence[CapacityResult], head: Sequence[CapacityResult]) -> list[tuple[Key, list[CapacityResult],
                                                                                               list[CapacityResult]]]:
    """Results of one key on both sides; one result a side of different keys pair as well
    (their difference is refused unless forced)."""
    b, h = _grouped(base), _grouped(head)
    common = [(key, b[key], h[key]) for key in h if key in b]
    if not common and len(base) == 1 and len(head) == 1:
        return [(key_of(head[0]), list(base), list(head))]
    return common


def _verdict(base: Side, head: Side, factor: float) -> tuple[float | None, str, str]:
    apart = head.low > (base.high if base.high is not None else float("inf")) or \
        base.low > (head.high if head.high is not None else float("inf"))
    if base.knee is None and head.knee is None:
        return None, "no knee", "neither side sustained its first step"
    if base.knee is None or head.knee is None:
        lower, higher = (head, base) if head.knee is None else (base, head)
        gap = lower.high is not None and lower.high * factor < higher.low
        verdict = ("regression" if head.knee is None else "improvement") if gap else "not significant"
        return None, verdict, f"{'head' if head.knee is None else 'base'} found no knee"
    ratio = head.knee / base.knee
    beyond = ratio > factor or ratio < 1 / factor
    if apart and beyond:
        return ratio, "regression" if ratio < 1 else "improvement", ""
    if beyond:
        return ratio, "not significant", "the intervals overlap"
    return ratio, "no change", f"intervals apart, change within x{factor:g}" if apart else ""


def capacity_rows(base: Sequence[CapacityResult], head: Sequence[CapacityResult],
                  factor: float = DEFAULT_FACTOR) -> list[CapacityRow]:
    """One row per path, week, workers and arrivals found on both sides (then those on one)."""
    rows = []
    pairs = _pairs(base, head)
    for key, b, h in pairs:
        base_side, head_side = side_of(b), side_of(h)
        if base_side is None or head_side is None:
            rows.append(CapacityRow(*key, base_side, head_side, None, "no data", "a side ran no step"))
            continue
        ratio, verdict, note = _verdict(base_side, head_side, factor)
        notes = [note] + [f"base: {n}" for n in base_side.notes] + [f"head: {n}" for n in head_side.notes]
        rows.append(CapacityRow(*key, base_side, head_side, ratio, verdict, "; ".join(n for n in notes if n)))
    paired = {key_of(r) for _, b, h in pairs for r in (*b, *h)}
    for side, results in (("base", base), ("head", head)):
        for key in _grouped(results):
            if key not in paired:
                rows.append(CapacityRow(*key, None, None, None, "no data", f"only in the {side}"))
    return rows


def _context(result: CapacityResult) -> dict[str, Any]:
    return {**result.context, "week": result.week}


def same_machine_context(a: CapacityResult, b: CapacityResult) -> bool:
    """One machine, stack, server major versions and profile (whatever the path, week,
    workers and arrivals): results one trend across releases may draw side by side."""
    return not differences({**a.context, "week": None}, {**b.context, "week": None})[0]


def capacity_differences(base: Sequence[CapacityResult],
                         head: Sequence[CapacityResult]) -> tuple[list[str], list[str]]:
    """(refusing, other) differences between the results that are compared with each other."""
    refusing: list[str] = []
    other: list[str] = []
    pairs = _pairs(base, head)
    if not pairs:
        keys = [sorted({key_of(r) for r in side}) for side in (base, head)]
        refusing.append(f"{'/'.join(KEY_FIELDS)}: base {keys[0]} vs head {keys[1]} (none on both sides)")
    for _, b, h in pairs:
        reference = h[-1]
        for result in (*b, *h[:-1]):
            r, o = differences(_context(result), _context(reference))
            r += [f"{name}: {getattr(result, name)!r} vs {getattr(reference, name)!r}" for name in KEY_FIELDS
                  if name != "week" and getattr(result, name) != getattr(reference, name)]
            if result.criteria != reference.criteria:
                o.append(f"criteria: {result.criteria!r} vs {reference.criteria!r}")
            refusing += [d for d in r if d not in refusing]
            other += [d for d in o if d not in other]
    return refusing, other


@dataclass(frozen=True)
class CapacityComparison:
    rows: list[CapacityRow]
    refusing: list[str] = field(default_factory=list)
    other_differences: list[str] = field(default_factory=list)
    factor: float = DEFAULT_FACTOR

    @property
    def regressions(self) -> list[CapacityRow]:
        return [r for r in self.rows if r.verdict == "regression"]

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "rows": [r.to_dict() for r in self.rows], "regressions": len(self.regressions),
                "context": {"refusing": self.refusing, "other": self.other_differences}}


def compare_capacity(base: Sequence[CapacityResult], head: Sequence[CapacityResult], factor: float = DEFAULT_FACTOR,
                     force: bool = False) -> CapacityComparison:
    """The rows; a UserError (one line) when the contexts differ and `force` is not set."""
    if not factor > 1.0:
        raise UserError(f"capacity factor {factor} is not allowed; use a ratio above 1 (e.g. 1.10)")
    refusing, other = capacity_differences(base, head)
    if refusing and not force:
        raise UserError(f"capacity results differ ({'; '.join(refusing)}); compare results of one machine, stack, "
                        "server major versions, profile, path, week, workers and arrivals, or pass --force")
    return CapacityComparison(capacity_rows(base, head, factor), refusing, other, factor)


def rate_text(value: float) -> str:
    """A rate in syncs/s as the notes and tables show it: 12.0, 0.56."""
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


__all__ = ["CapacityComparison", "CapacityRow", "KneeInterval", "Side", "capacity_differences", "capacity_rows",
           "compare_capacity", "key_of", "knee_interval", "rate_text",
           "same_machine_context", "side_of"]
