"""Capacity results in words: the comparison as a table, and one line per result for the
report and the capacity command."""

from __future__ import annotations

from rollout_bench.capacity.compare import CapacityComparison, Side, knee_interval, rate_text
from rollout_bench.capacity.result import CapacityResult


def _count(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def _interval(side: Side | None) -> str:
    if side is None:
        return "-"
    knee = "no knee" if side.knee is None else rate_text(side.knee)
    return f"{knee} [{rate_text(side.low)}-{'?' if side.high is None else rate_text(side.high)}] ({side.results})"


def render_capacity(comparison: CapacityComparison) -> str:
    """The comparison as a table: knee [interval] (results) per side, ratio, verdict, notes."""
    lines = [("path", "week", "workers", "arrivals", "base knee, syncs/s", "head knee, syncs/s", "ratio", "verdict")]
    lines += [(r.path, str(r.week), str(r.workers), r.arrivals, _interval(r.base), _interval(r.head),
               "-" if r.ratio is None else f"{r.ratio:.3g}", r.verdict) for r in comparison.rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    out += [f"  {r.path} {r.workers} worker(s): {r.note}" for r in comparison.rows if r.note]
    out += [f"context differs (refusing): {d}" for d in comparison.refusing]
    out += [f"context differs: {d}" for d in comparison.other_differences]
    out.append(f"capacity: change = intervals apart and ratio beyond x{comparison.factor:g}; "
               + (f"{len(comparison.regressions)} regression(s)" if comparison.regressions else "no regression"))
    return "\n".join(out)


def describe_result(result: CapacityResult) -> str:
    """One line for the report: "unified, 1 worker: knee 12.0 syncs/s (60 jobs/s), bracket
    12.0-13.2, repeated 2/2, headroom 216x, bottleneck worker-0 (97 % CPU)"."""
    where = f"{result.path}, week {result.week}, {result.workers} worker{'s' if result.workers != 1 else ''}"
    interval = knee_interval(result)
    if interval is None:
        return f"{where}: no step ran"
    if result.knee is None:
        first = result.steps[0]
        return f"{where}: no knee: {interval.note} ({'; '.join(first.reasons()) or 'no check recorded'})"
    knee = result.knee
    high = "?" if knee.bracket[1] is None else rate_text(knee.bracket[1])
    parts = [f"knee {rate_text(knee.syncs_per_s)} syncs/s ({_count(knee.jobs_per_s)} jobs/s)",
             f"bracket {rate_text(knee.bracket[0])}-{high}"]
    parts.append(f"repeated {knee.repeats_sustainable}/{knee.repeats} sustainable" if knee.repeats else "not repeated")
    headroom = result.headroom
    parts.append("headroom unknown (no production rate)" if headroom is None else f"headroom {_count(headroom)}x")
    resource = result.bottleneck.get("resource")
    percent = result.bottleneck.get("percent")
    parts.append(f"bottleneck {resource}" + (f" ({percent:.0f} % CPU)" if isinstance(percent, (int, float)) else "")
                 if resource else "bottleneck not measured")
    return f"{where}: " + ", ".join(parts)


__all__ = ["describe_result", "render_capacity"]
