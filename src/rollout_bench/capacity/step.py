"""One capacity step: a constant open-model rate for warm-up + hold against a fresh stage
(capacity/stages.py) on its own BullMQ prefix and NATS namespace, judged on the jobs whose
intended arrival falls in the hold window.

Order: start the stage -> Locust at the rate (shape `constant`, the search's arrivals, the
step's own seed) while the queue depth and every resource's CPU are sampled -> wait for the
step's jobs to start (a deadline: a step that fell behind leaves a backlog) -> stop the
stage (its in-flight jobs finish) -> count the jobs failed or lost (still queued is
backlog) -> remove its queue, mark its legacy leftovers broken, delete its NATS stream ->
judge (capacity/criteria.py). So each
step starts from an empty queue, and its record says how the last one ended (`drain`).

The hold window starts `warmup_s` after the schedule's first arrival (at most one mean gap,
1/rate, after Locust began its schedule) and lasts the step's hold: `hold_s`, or longer at a
rate too low for a p99 bound in it (Criteria.hold_for)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.capacity import criteria as judge
from rollout_bench.capacity.backlog import JobTiming, backlog_tests
from rollout_bench.capacity.resources import GENERATOR, ResourceSampler
from rollout_bench.capacity.result import Check, StepResult
from rollout_bench.capacity.stages import Stage
from rollout_bench.collect.histograms import merge, summarize
from rollout_bench.errors import InfrastructureError
from rollout_bench.load import LoadResult, run_load
from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.load.machine_events import events_between, read_mark
from rollout_bench.load.sampler import QueueDepthSampler
from rollout_bench.run import private_config
from rollout_bench.stack.base import RunningStack
from rollout_bench.stack.nats import delete_pipeline_stream
from rollout_bench.stack.orphans import own_nats_namespace, own_redis_prefix

DRAIN_POLL_S = 0.5
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class StepSettings:
    """What every step of one search shares."""

    stack: RunningStack
    database_url: str  # the run's scratch database
    tenants: list[Tenant]
    flags: dict[str, str]
    out: Path
    tag: str  # short, unique per run: the BullMQ prefixes are `cap<tag>-NN`
    seed: int
    arrivals: str
    criteria: judge.Criteria
    drain_s: float = 20.0
    smallest_share: float = 1.0  # the share of syncs on the least-loaded path of the flags (a mix: < 1)

    def hold_for(self, rate: float) -> float:
        return self.criteria.hold_for(rate * len(ENTITY_TYPES) * self.smallest_share)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


class StepRunner:
    """Callable as the search's `run_step(rate, repeat_of)`."""

    def __init__(self, settings: StepSettings, stage: Stage, progress: Callable[[str], None]) -> None:
        self.settings, self.stage, self.progress = settings, stage, progress
        self.count = 0

    def __call__(self, rate: float, repeat_of: float | None = None) -> StepResult:
        s = self.settings
        self.count += 1
        prefix = f"cap{s.tag}-{self.count:02d}"
        folder = s.out / "steps" / f"{self.count:02d}-{self.stage.label}-{rate:g}"
        folder.mkdir(parents=True, exist_ok=True)
        redis_url, nats_url = s.stack.urls.redis_url, s.stack.urls.nats_url
        own_redis_prefix(redis_url, prefix)
        own_nats_namespace(s.stack, prefix)
        began, began_at = time.monotonic(), datetime.now(timezone.utc).isoformat()
        seed, hold = s.seed + self.count, s.hold_for(rate)
        config = LoadConfig(redis_url, s.database_url, nats_url, prefix, s.flags, s.tenants, [], "constant",
                            str(folder), seed, rate_syncs_per_s=rate, nats_namespace=prefix, arrivals=s.arrivals,
                            duration_s=s.criteria.warmup_s + hold)
        config_path = private_config(config, folder)
        depth = QueueDepthSampler(s.database_url, redis_url, prefix)
        resources = ResourceSampler(self.stage.processes, s.database_url, redis_url)
        try:
            self.stage.start(prefix, folder)
            machine_start = read_mark()
            depth_started = time.time()
            with depth, resources:
                load = run_load(config_path, folder)
            if load.counts.get("arrival_bugs"):
                raise InfrastructureError(f"the load generator hit a bug; see {folder / 'locust.log'}")
            jobs = load.jobs
            keys = [str(j["job_key"]) for j in jobs]
            dead = self.stage.dead()
            starts, waited = self._wait_for_starts(keys)
            machine_events = events_between(machine_start, read_mark())
        finally:
            self.stage.stop(STOP_GRACE_S)  # in-flight jobs finish: outcomes are final from here
        errors = self.stage.errors(jobs)
        cleared = self.stage.clear()
        delete_pipeline_stream(nats_url, prefix)
        drain = {"drained": len(starts) == len(keys), "waited_s": round(waited, 1),
                 "not_started": len(keys) - len(starts), **cleared}
        drain["action"] = self._drain_words(drain)
        step = self._judge(rate, hold, repeat_of, load, jobs, starts, errors, dead, depth, depth_started, resources,
                           machine_events)
        step.seed, step.drain, step.started_at = seed, drain, began_at
        step.wall_s = round(time.monotonic() - began, 1)
        return step

    def _wait_for_starts(self, keys: Sequence[str]) -> tuple[dict[str, float], float]:
        began = time.monotonic()
        deadline = began + self.settings.drain_s
        starts = self.stage.started(keys)
        while len(starts) < len(keys) and time.monotonic() < deadline:
            time.sleep(DRAIN_POLL_S)
            starts = self.stage.started(keys)
        return starts, time.monotonic() - began

    def _drain_words(self, drain: dict[str, Any]) -> str:
        if drain["drained"]:
            return (f"drained: every job started within {drain['waited_s']:g} s of the load's end; stage stopped, "
                    "the next step starts on its own empty queue")
        legacy = f", {drain['legacy_rows_cleared']} legacy rows marked broken" if drain["legacy_rows_cleared"] else ""
        return (f"backlog did not clear within {self.settings.drain_s:g} s ({drain['not_started']} jobs never "
                f"started, {drain['left']} still queued): stage stopped, its queue removed{legacy}")

    def _judge(self, rate: float, hold: float, repeat_of: float | None, load: LoadResult, jobs: Sequence[dict[str, Any]],
               starts: dict[str, float], errors: int, dead: dict[str, int | None], depth: QueueDepthSampler,
               depth_started: float, resources: ResourceSampler, machine_events: dict[str, Any]) -> StepResult:
        c = self.settings.criteria
        floor = self.stage.label == "floor"
        timings = [JobTiming("floor" if floor else str(j["path"]), _epoch(str(j["intended_at"])),
                           starts.get(str(j["job_key"]))) for j in jobs]
        first = min((t.intended_s for t in timings), default=time.time())
        window = (first + c.warmup_s, first + c.warmup_s + hold)
        ended = time.time()
        latency: dict[str, list[float]] = {}
        for t in timings:
            if window[0] <= t.intended_s < window[1]:  # never started: counted at least as long as it waited
                latency.setdefault(t.path, []).append(((t.started_s or ended) - t.intended_s) * 1000)
        latency_check, figures = judge.latency_check(latency, c)
        for path in latency:
            figures[path]["not_started"] = sum(1 for t in timings if t.path == path and t.started_s is None
                                               and window[0] <= t.intended_s < window[1])
        depth_tests, age_tests, backlog = backlog_tests(
            timings, depth.series(), depth_started, window, lambda p: c.target_ms(p) / 1000, c.slope_alpha,
            c.min_backlog_samples, depth_path=lambda p: "unified" if p == "floor" else p)
        cpu = resources.summary(*window)
        lateness = summarize(merge([load.histograms["lateness_ms"]]), "ms") if "lateness_ms" in load.histograms \
            else {"count": 0}
        requests = load.request_totals()
        generator = {**load.arrivals(), "lateness_ms": lateness, **requests,
                     "cpu_percent": cpu["by_process"].get(GENERATOR)}
        checks = [latency_check,
                  judge.backlog_check("backlog_depth", depth_tests, "jobs", depth.error),
                  judge.backlog_check("backlog_age", age_tests, "s"),
                  judge.errors_check(errors, len(jobs), requests["failures"], requests["requests"], c),
                  judge.generator_check(load.arrivals(), lateness, c),
                  Check("processes", not dead, "all alive" if not dead else
                        "exited under load: " + ", ".join(f"{n} (code {code})" for n, code in dead.items()),
                        len(self.stage.processes())),
                  judge.machine_check(machine_events)]
        hold_starts = sum(1 for t in timings if t.started_s is not None and window[0] <= t.started_s < window[1])
        return StepResult(rate_syncs_per_s=rate, rate_jobs_per_s=round(rate * len(ENTITY_TYPES), 3), hold_s=hold,
                          completed_jobs_per_s=round(hold_starts / hold, 3), job_latency_ms=figures,
                          backlog=backlog, generator=generator, cpu=cpu, checks=checks, repeat_of=repeat_of,
                          verdict=judge.verdict(checks))
