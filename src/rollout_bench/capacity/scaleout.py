"""Scale-out: the capacity search once per number of BullMQ worker processes, the knees
against workers, and the Universal Scalability Law through them (usl.py).

The search itself is injected (`search(workers) -> CapacityResult`), so this module knows
nothing of how a knee is found. A count whose search found no knee is kept in the result
with the reason and left out of the fit. Writes `scaleout.json` (every count's result, its
knee and interval, the fit) and `scaleout.png` (knee throughput with its interval against
workers, the USL curve and its predicted peak) into the folder given.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rollout_bench.capacity.compare import knee_interval
from rollout_bench.capacity.result import CapacityResult
from rollout_bench.capacity.usl import DRAWS, Observation, UslFit, fit_usl
from rollout_bench.errors import UserError
from rollout_bench.results.store import new_run_id, run_dir, write_json

SCALEOUT_FILE = "scaleout.json"
SCALEOUT_PLOT = "scaleout.png"
SCHEMA = 1


@dataclass(frozen=True)
class WorkerCount:
    workers: int
    result: CapacityResult
    observation: Observation | None  # None: left out of the fit
    reason: str = ""  # why it was left out


@dataclass(frozen=True)
class ScaleOutResult:
    path: str
    week: int
    counts: list[WorkerCount]
    fit: UslFit
    started_at: str = ""
    duration_s: float = 0.0
    files: dict[str, str] = field(default_factory=dict)

    @property
    def results(self) -> list[CapacityResult]:
        return [c.result for c in self.counts]

    def to_dict(self) -> dict[str, Any]:
        counts = []
        for c in self.counts:
            knee = c.result.knee
            counts.append({"workers": c.workers, "run_id": c.result.run_id, "included": c.observation is not None,
                           "reason": c.reason, "knee_syncs_per_s": knee.syncs_per_s if knee else None,
                           "knee_jobs_per_s": knee.jobs_per_s if knee else None,
                           "bracket_syncs_per_s": list(knee.bracket) if knee else None,
                           "fit_jobs_per_s": [c.observation.knee_jobs_per_s, c.observation.ceiling_jobs_per_s]
                           if c.observation else None, "result": c.result.to_dict()})
        return {"schema": SCHEMA, "path": self.path, "week": self.week, "started_at": self.started_at,
                "duration_s": self.duration_s, "counts": counts, "fit": self.fit.to_dict(), "files": self.files}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScaleOutResult:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"scale-out result schema {data.get('schema')!r} is not supported; expected {SCHEMA}")
        counts = [WorkerCount(c["workers"], CapacityResult.from_dict(c["result"]),
                              Observation(c["workers"], *c["fit_jobs_per_s"]) if c["fit_jobs_per_s"] else None,
                              c["reason"]) for c in data["counts"]]
        return cls(data["path"], data["week"], counts, UslFit.from_dict(data["fit"]), data["started_at"],
                   data["duration_s"], data.get("files", {}))


def observation_of(result: CapacityResult) -> tuple[Observation | None, str]:
    """The count's capacity in jobs/s (its interval's ends) for the fit, or why it has none."""
    interval = knee_interval(result)
    if interval is None:
        return None, "the search ran no step"
    if interval.knee is None:
        first = result.steps[0]
        return None, f"no knee: {interval.note} ({'; '.join(first.reasons()) or 'no check recorded'})"
    if not interval.jobs_per_sync or interval.low <= 0:
        return None, f"no usable knee: {interval.note or 'zero jobs per sync'}"
    return Observation(result.workers, interval.low * interval.jobs_per_sync,
                       None if interval.high is None else interval.high * interval.jobs_per_sync), ""


def _checked(workers: Sequence[int]) -> list[int]:
    counts = list(workers)
    if not counts:
        raise UserError("no worker count given; pass e.g. 1, 2 and 4 worker processes")
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise UserError(f"worker count {count!r} is not allowed; use whole numbers of 1 or more")
    repeated = sorted({c for c in counts if counts.count(c) > 1})
    if repeated:
        raise UserError(f"worker counts {repeated} are given twice; give each count once (e.g. 1, 2, 4)")
    return counts


def run_scaleout(workers: Sequence[int], search: Callable[[int], CapacityResult], *,
                 directory: Path | None = None, draws: int = DRAWS) -> ScaleOutResult:
    """The search once per worker count (in the order given), the USL fit, and the files
    (in `directory`, by default a new run folder)."""
    counts_asked = _checked(workers)
    started, clock = datetime.now(UTC).isoformat(), time.monotonic()
    counts = []
    for count in counts_asked:
        result = search(count)
        if result.workers != count:
            raise ValueError(f"the search asked for {count} worker(s) returned a result of {result.workers}")
        observation, reason = observation_of(result)
        counts.append(WorkerCount(count, result, observation, reason))
    first = counts[0].result
    for c in counts[1:]:
        if (c.result.path, c.result.week) != (first.path, first.week):
            raise ValueError(f"scale-out searches disagree: {first.path} week {first.week} vs "
                             f"{c.result.path} week {c.result.week}")
    cpus = (first.context.get("machine") or {}).get("cpus")
    fit = fit_usl([c.observation for c in counts if c.observation], cpus=cpus, draws=draws)
    folder = directory or run_dir(new_run_id())
    folder.mkdir(parents=True, exist_ok=True)
    files = {"json": str(folder / SCALEOUT_FILE), "plot": str(folder / SCALEOUT_PLOT)}
    scaleout = ScaleOutResult(first.path, first.week, counts, fit, started, round(time.monotonic() - clock, 3), files)
    write_json(folder / SCALEOUT_FILE, scaleout.to_dict())
    scaleout_plot(scaleout, folder / SCALEOUT_PLOT)
    return scaleout


def read_scaleout(path: Path) -> ScaleOutResult:
    return ScaleOutResult.from_dict(json.loads(path.read_text()))


def scaleout_plot(scaleout: ScaleOutResult, out: Path) -> Path:
    """Knee throughput (dot at the knee, bar over its interval) against workers, the USL
    curve, linear scaling from one worker, the predicted peak, and the counts left out."""
    from rollout_bench.report.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    fit = scaleout.fit
    included = [c for c in scaleout.counts if c.observation is not None]
    for c in included:
        assert c.observation is not None
        knee = c.result.knee
        shown = knee.jobs_per_s if knee else c.observation.knee_jobs_per_s
        top = c.observation.ceiling_jobs_per_s
        ax.errorbar([c.workers], [shown], yerr=[[shown - c.observation.knee_jobs_per_s],
                                                [(top if top is not None else shown) - shown]],
                    fmt="o", color="tab:blue", capsize=4, label="knee, bar: its interval" if c is included[0] else None)
        if top is None:
            ax.annotate("never failed", (c.workers, shown), textcoords="offset points", xytext=(5, 5), fontsize=7)
    largest = max(c.workers for c in included or scaleout.counts)
    if fit.fitted and fit.lambda_jobs_per_s is not None:
        reach = max(2 * largest, 1.5 * fit.peak_workers if fit.peak_workers else 0)
        n = np.linspace(1, min(reach, 8 * largest), 200)
        ax.plot(n, fit.predict(n), color="tab:green",
                label=f"USL: sigma {fit.sigma:.3f}, kappa {fit.kappa:.4f}, lambda {fit.lambda_jobs_per_s:.3g} jobs/s")
        ax.plot(n, fit.lambda_jobs_per_s * n, ":", color="grey", label="linear scaling")
        tops = [c.observation.ceiling_jobs_per_s or c.observation.knee_jobs_per_s for c in included if c.observation]
        ax.set_ylim(0, max([float(np.max(fit.predict(n))), *tops]) * 1.3)
        if fit.peak_workers is not None and fit.peak_workers <= n[-1]:
            ax.axvline(fit.peak_workers, color="tab:red", linestyle="--", linewidth=1,
                       label=f"predicted peak N* = {fit.peak_workers:.1f} ({fit.peak_jobs_per_s:.3g} jobs/s)")
    left_out = [f"N={c.workers} left out: {c.reason}" for c in scaleout.counts if c.observation is None]
    for line, text in enumerate(left_out):
        ax.text(0.01, 0.02 + 0.05 * line, textwrap.shorten(text, 110), transform=ax.transAxes, fontsize=7,
                color="tab:red")
    ax.set_xlabel("BullMQ worker processes")
    ax.set_ylabel("capacity, jobs/s (highest sustainable arrival rate)")
    ax.set_title("\n".join(textwrap.wrap(f"{scaleout.path}, week {scaleout.week}: {fit.sentence}", 100)), fontsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


__all__ = ["SCALEOUT_FILE", "SCALEOUT_PLOT", "ScaleOutResult", "WorkerCount", "observation_of", "read_scaleout",
           "run_scaleout", "scaleout_plot"]
