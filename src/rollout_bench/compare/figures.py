"""The verdict's figures for "performance degrades": this run compared with the latest
stored release of the same context (machine, stack, server majors, profile, week), and the
alert counts per type against that release's (validateAlertCounts: a type whose count moved
more than 10 % is flagged with both counts).

No stored release of this context -> the counts the gates stand on are null (the gates are
INCONCLUSIVE) and `reason` says how to make one. Every run records its own alert counts, so
the runs a baseline stores carry them.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rollout_bench.compare import CALIBRATED_RUNS
from rollout_bench.compare.context import differences
from rollout_bench.compare.releases import ResultSet, load, spread_sets
from rollout_bench.compare.rows import DEFAULT_FACTOR, compare_runs
from rollout_bench.errors import UserError
from rollout_bench.load.cpu import disturbance
from rollout_bench.results.store import read_samples, read_summary, releases

ALERT_COUNT_TOLERANCE = 0.10


class _Finding(Protocol):
    alert_type: str


def alert_counts(found: Mapping[str, Iterable[_Finding]]) -> dict[str, int]:
    """Active findings per alert type over every tenant."""
    counts = Counter(f.alert_type for findings in found.values() for f in findings)
    return dict(sorted(counts.items()))


def latest_release_of_context(summary: Mapping[str, Any], root: Path | None = None) -> ResultSet | None:
    """The most recently started stored release whose every run has this run's context."""
    for directory in reversed(releases(root)):
        stored = load(directory)
        if all(not differences(run, summary)[0] for run in stored.summaries):
            return stored
    return None


def _how_to_make(summary: Mapping[str, Any]) -> str:
    return (f"no stored release of this context (week {summary.get('week')}, profile {summary.get('profile')}, "
            f"stack {summary.get('stack')}, this machine and server majors); make one with "
            f"`make loadtest WEEK={summary.get('week')} PROFILE={summary.get('profile')} "
            f"STACK={summary.get('stack')} RUNS={CALIBRATED_RUNS}` then `make baseline RELEASE=x`")


def alert_count_figures(this_run: Mapping[str, int], base_runs: Sequence[Mapping[str, int]] | None) -> dict[str, Any]:
    if not base_runs:
        return {"this_run": dict(this_run), "types": None, "moved": None, "changes": []}
    types = sorted(set(this_run).union(*base_runs))
    changes = []
    for alert_type in types:
        base = float(np.median([run.get(alert_type, 0) for run in base_runs]))
        head = this_run.get(alert_type, 0)
        moved = abs(head - base) / base if base else (0.0 if head == 0 else float("inf"))
        if moved > ALERT_COUNT_TOLERANCE:
            changes.append({"alert_type": alert_type, "base": base, "head": head,
                            "moved": None if moved == float("inf") else round(moved, 4)})
    return {"this_run": dict(this_run), "types": len(types), "moved": len(changes), "changes": changes}


def regression_figures(summary: Mapping[str, Any], samples: Mapping[str, Any],
                       found: Mapping[str, Iterable[_Finding]], *, earlier: Sequence[Path] = (),
                       series_runs: int = 1, factor: float = DEFAULT_FACTOR,
                       root: Path | None = None) -> dict[str, Any]:
    """This run's figures for the two release gates. The head of the comparison is the
    series this run ends (`earlier` runs of the same `--runs N`, then this one): runs are the
    unit of evidence, so an earlier run of a series defers the judgement to the last one. A
    head run that other work on the machine disturbed makes the comparison unjudged."""
    this_run = alert_counts(found)
    empty = {"baseline": None, "baseline_runs": None, "head_runs": None, "flagged": None, "detectable": None,
             "deferred": None, "factor": factor, "rows": []}
    position = len(earlier) + 1
    deferred = position < series_runs
    if deferred:
        earlier = ()  # only the series' last run reads them
    try:
        baseline = latest_release_of_context(summary, root)
        heads = [(read_summary(d), read_samples(d)) for d in earlier] + [(dict(summary), samples)]
    except (OSError, UserError, json.JSONDecodeError, gzip.BadGzipFile, EOFError) as exc:
        return {**empty, "reason": f"the stored results could not be read ({type(exc).__name__}: {exc})",
                "alert_counts": alert_count_figures(this_run, None)}
    if baseline is None:
        return {**empty, "reason": _how_to_make(summary), "alert_counts": alert_count_figures(this_run, None)}
    base_counts = [s.get("regression", {}).get("alert_counts", {}).get("this_run") for s in baseline.summaries]
    known_counts = [c for c in base_counts if isinstance(c, dict)]
    alerts = alert_count_figures(this_run, known_counts if len(known_counts) == len(base_counts) else None)
    stored = {**empty, "baseline": baseline.name, "baseline_runs": len(baseline.summaries), "alert_counts": alerts}
    if deferred:  # the alert counts are judged on every run; the regression by the series' last run
        return {**stored, "deferred": f"judged over the series by its last run (this is run {position} of "
                                      f"{series_runs})", "reason": "deferred to the series' last run"}
    disturbed = [why for why in (disturbance(s) for s, _ in heads) if why]
    if disturbed:
        return {**stored, "reason": "; ".join(disturbed) + ": not comparable with the stored release, run again "
                                    "on a quiet machine"}
    spread = [s.samples for s in spread_sets(dict(summary), [baseline.directory], root)]
    rows = [r for r in compare_runs(baseline.samples, [h for _, h in heads], factor, spread=spread)
            if r.verdict != "no data"]
    flagged = [r for r in rows if r.verdict == "regression"]
    detectable = [r.detectable for r in rows if r.metric == "job_latency_ms" and r.statistic == "p50" and r.detectable]
    reason = (f"{len(heads)} run(s) vs release {baseline.name} ({len(baseline.summaries)} runs): "
              + (", ".join(f"{r.metric} {r.path} {r.statistic} x{r.ratio:.3g} [{r.ci_low:.3g}, {r.ci_high:.3g}]"
                           if r.ci_low is not None else f"{r.metric} {r.path} {r.statistic} {r.note}"
                           for r in flagged) or "no row regressed"))
    if alerts["types"] is None:
        reason += f"; release {baseline.name} has no alert counts per type (stored before they were recorded)"
    return {**stored, "head_runs": len(heads), "flagged": len(flagged),
            "detectable": round(max(detectable), 4) if detectable else None,
            "rows": [r.to_dict() for r in rows], "reason": reason}


__all__ = ["alert_counts", "latest_release_of_context", "regression_figures", "series_comparison"]


def series_comparison(run_folders: Sequence[Path], factor: float = DEFAULT_FACTOR) -> str:
    """The runs of one `loadtest --runs N` together against the latest stored release of
    their context: N head runs, so the head's own run-to-run spread counts too."""
    from rollout_bench.compare.output import render
    from rollout_bench.compare.releases import compare_sets

    if not run_folders:
        return "series: no run of the series wrote a summary.json"
    heads = [load(folder) for folder in run_folders]
    series = ResultSet(f"series of {len(heads)} runs", run_folders[0], [h.summaries[0] for h in heads],
                       [h.samples[0] for h in heads])
    baseline = latest_release_of_context(series.context)
    if baseline is None:
        return f"series: {_how_to_make(series.context)}"
    return render(compare_sets(baseline, series, factor, spread_sets(series.context, [baseline.directory])))
