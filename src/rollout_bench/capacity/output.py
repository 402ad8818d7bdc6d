"""What a capacity search prints: one progress line per step (rate, latency with its bound,
backlog growth, verdict and why), the table of all steps, and the knee with its headroom,
bottleneck and floor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollout_bench.capacity.criteria import PATH_WORDS, SUSTAINABLE
from rollout_bench.capacity.resources import bottleneck
from rollout_bench.capacity.result import CapacityResult, StepResult
from rollout_bench.load.cpu import DISTURBED_CORE_PERCENT


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _latency(step: StepResult) -> str:
    parts = []
    for path, fig in step.job_latency_ms.items():
        upper = fig["bounds"]["p99"]["upper"]
        parts.append(f"{PATH_WORDS.get(path, path)} p50 {_ms(fig['p50'])} ms, p99 {_ms(fig['p99'])} ms "
                     f"(upper {_ms(upper)}, n={fig['count']})")
    return "; ".join(parts) or "no job in the hold"


def _growth(step: StepResult, series: str) -> str:
    """'growth/tolerance (p=..)' per path, each named when there are several (a mix)."""
    by_path = step.backlog.get("by_path", {})
    parts = []
    for path, record in by_path.items():
        test = record[series]
        name = f"{PATH_WORDS.get(path, path)} " if len(by_path) > 1 else ""
        figures = "-" if test["growth"] is None else \
            f"{test['growth']:+.3g}/{test['tolerance']:.3g} (p={test['p_value']:.2g})"
        parts.append(name + figures)
    return ", ".join(parts) or "-"


def step_line(index: int, step: StepResult) -> str:
    label = f"repeat of {step.repeat_of:g}" if step.repeat_of is not None else f"step {index}"
    why = "" if step.verdict == SUSTAINABLE else ": " + " | ".join(step.reasons())
    busiest = bottleneck(step.cpu).get("words", "")
    return (f"{label}: {step.rate_syncs_per_s:g} syncs/s ({step.rate_jobs_per_s:g} jobs/s): {_latency(step)}; "
            f"depth growth {_growth(step, 'depth')} jobs, age growth {_growth(step, 'age_s')} s; "
            f"{busiest}; {step.wall_s:.0f} s -> {step.verdict.upper()}{why}")


def _worst(step: StepResult, key: str) -> float | None:
    values = [fig.get(key) for fig in step.job_latency_ms.values() if fig.get(key) is not None]
    return max(values) if values else None


def _upper(step: StepResult) -> float | None:
    values = [fig["bounds"]["p99"]["upper"] for fig in step.job_latency_ms.values()
              if fig["bounds"]["p99"]["upper"] is not None]
    return max(values) if values else None


def table(steps: Sequence[StepResult]) -> str:
    header = ("#", "syncs/s", "jobs/s", "started/s", "n", "p50 ms", "p99 ms", "p99 upper", "depth growth",
              "age growth s", "late p99", "busiest", "verdict")
    rows = [header]
    for index, step in enumerate(steps, 1):
        busiest = bottleneck(step.cpu)
        rows.append((f"{index}{'r' if step.repeat_of is not None else ''}", f"{step.rate_syncs_per_s:g}",
                     f"{step.rate_jobs_per_s:g}", f"{step.completed_jobs_per_s:g}",
                     str(sum(int(f["count"]) for f in step.job_latency_ms.values())),
                     _ms(_worst(step, "p50")), _ms(_worst(step, "p99")), _ms(_upper(step)),
                     _growth(step, "depth"), _growth(step, "age_s"),
                     _ms(step.generator.get("lateness_ms", {}).get("p99")),
                     f"{busiest['resource']} {busiest['percent']:.0f}%" if busiest["resource"] else "-",
                     step.verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def floor_words(floor: Mapping[str, Any] | None, knee_step: StepResult | None) -> str:
    if not floor:
        return "floor: not measured"
    pipeline = ""
    if knee_step is not None:
        pipeline = f"; the pipeline at the knee: p50 {_ms(_worst(knee_step, 'p50'))} ms, p99 {_ms(_worst(knee_step, 'p99'))} ms"
    return (f"floor (no-op BullMQ workers, same generator) at {floor['rate_syncs_per_s']:g} syncs/s: p50 "
            f"{_ms(floor.get('p50'))} ms, p99 {_ms(floor.get('p99'))} ms (upper {_ms(floor.get('p99_upper'))}, "
            f"n={floor.get('count')}){pipeline}")


def shared_machine_note(steps: Sequence[StepResult]) -> str:
    """A warning when other work took the machine's CPU during the holds (load/cpu.py's
    threshold for a disturbed run)."""
    others = [b["other_work_percent"] for b in map(bottleneck, (s.cpu for s in steps))
              if b.get("other_work_percent") is not None]
    if not others or sum(others) / len(others) <= DISTURBED_CORE_PERCENT:
        return ""
    return (f"note: the machine was busy with other work during the holds ({sum(others) / len(others):.0f} % of a "
            f"core on average, more than {DISTURBED_CORE_PERCENT:g} %): the knee is this machine's under that load")


def knee_step(result: CapacityResult) -> StepResult | None:
    if result.knee is None:
        return None
    return next((s for s in reversed(result.steps) if s.rate_syncs_per_s == result.knee.syncs_per_s
                 and s.repeat_of is None), None)


def summary(result: CapacityResult) -> str:
    lines = [(f"capacity of {result.path} (week {result.week}, {result.workers} worker process(es), "
              f"{result.arrivals} arrivals): {result.stopped}")]
    knee = result.knee
    if knee is None:
        lines.append("knee: none found")
    else:
        high = "-" if knee.bracket[1] is None else f"{knee.bracket[1]:g}"
        limited = " (the generator, not the pipeline, failed above it)" if knee.limited_by == "generator" else ""
        lines.append(f"knee: {knee.syncs_per_s:g} syncs/s = {knee.jobs_per_s:g} jobs/s (bracket {knee.bracket[0]:g} "
                     f"- {high} syncs/s{'' if knee.precise else ', wider than the precision'}){limited}; "
                     f"repeat sustainable {knee.repeats_sustainable} of {knee.repeats}")
        production = result.production
        lines.append(f"headroom: {result.headroom:.3g}x production ({production['syncs_per_s']:g} syncs/s = "
                     f"{production['jobs_per_s']:g} jobs/s: {production['tenants']} tenants)")
    for when in ("first_unsustainable", "knee"):
        found = result.bottleneck.get(when)
        if found:
            lines.append(f"bottleneck at {when.replace('_', ' ')} ({found['rate_syncs_per_s']:g} syncs/s): "
                         f"{found['words']}")
    lines.append(floor_words(result.floor, knee_step(result)))
    shared = shared_machine_note(result.steps)
    if shared:
        lines.append(shared)
    if result.path_ratio:
        lines.append(result.path_ratio["words"])
    return "\n".join(lines)
