"""`make capacity WEEK=n PATH=p WORKERS=w`: the capacity search's runner object.

One stack, one scratch database, the tenants loaded once (the production model's mix), then
the search (capacity/search.py) over steps (capacity/step.py) against the path's stage, then
one floor step at the knee's rate against no-op BullMQ workers through the same generator.
Writes results/runs/<run_id>/capacity.json and capacity.png, prints the table, the knee,
headroom, bottleneck and floor, and the new-path / legacy ratio when the other path's result
from the same machine and git sha is there. Exit 0 with a knee, 1 without, 2 on usage or
infrastructure errors."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from msp_pipeline.migration import TenantMigration
from rollout_bench.capacity.criteria import SUSTAINABLE, Criteria
from rollout_bench.capacity.output import step_line, summary, table
from rollout_bench.capacity.plot import capacity_plot
from rollout_bench.capacity.ratio import RESULT_FILE, path_ratio
from rollout_bench.capacity.resources import bottleneck
from rollout_bench.capacity.result import CapacityResult, Knee, StepResult
from rollout_bench.capacity.search import Search, SearchLimits
from rollout_bench.capacity.setup import PathSetup, check_choice, path_setup
from rollout_bench.capacity.stages import FloorStage, PipelineStage, Stage
from rollout_bench.capacity.step import StepRunner, StepSettings
from rollout_bench.collect.clock import check_offset, measure_offset
from rollout_bench.collect.context import default_release, git_sha, library_versions, machine, server_versions
from rollout_bench.console import Progress
from rollout_bench.errors import UserError
from rollout_bench.load.config import ARRIVALS, Tenant
from rollout_bench.load.production import load_production
from rollout_bench.results.store import new_run_id, run_dir, write_json
from rollout_bench.run import load_tenant_mix
from rollout_bench.safety import check_load_target
from rollout_bench.stack import running_stack
from rollout_bench.stack.orphans import start_run_hygiene
from rollout_bench.stack.scratch import scratch_database
from rollout_bench.tenants import SyntheticTenant

SETUP_ESTIMATE_S = 15.0  # a step's own overhead beyond warm-up + hold: stage start, Locust start, drain


@dataclass(frozen=True)
class CapacityOptions:
    week: int = 5
    path: str = "unified"
    workers: int = 1
    stack: str = "auto"
    hold_s: float = 30.0
    warmup_s: float = 10.0
    max_hold_s: float = 180.0
    start: float = 1.0
    max_steps: int = 12
    budget_s: float = 560.0
    arrivals: str = "poisson"
    seed: int = 1
    release: str = ""
    tenants: int | None = None  # None: the production model's count
    drain_s: float = 20.0
    floor: bool = True
    repeats: int = 1
    results_root: Path | None = None

    def check(self) -> None:
        check_choice(self.path, self.week, self.workers)
        if self.arrivals not in ARRIVALS:
            raise UserError(f"--arrivals {self.arrivals!r} is not allowed; use one of {', '.join(ARRIVALS)}")
        if self.max_hold_s < self.hold_s:
            raise UserError(f"--max-hold {self.max_hold_s:g} is below --hold {self.hold_s:g}; use at least the hold")
        for name, value, low in (("--hold", self.hold_s, 5.0), ("--warmup", self.warmup_s, 0.0),
                                 ("--drain", self.drain_s, 1.0), ("--budget", self.budget_s, 10.0)):
            if not value >= low:
                raise UserError(f"{name} {value:g} is not allowed; use {low:g} s or more")
        if not self.start > 0:
            raise UserError(f"--start {self.start:g} is not allowed; use a rate above 0 syncs/s")
        if self.max_steps < 1 or self.repeats < 0:
            raise UserError(f"--max-steps {self.max_steps} / --repeats {self.repeats} not allowed; use >= 1 / >= 0")
        if self.tenants is not None and self.tenants < 1:
            raise UserError(f"--tenants {self.tenants} is not allowed; use 1 or more")


def smallest_share(flags: dict[str, str], tenant_ids: list[str]) -> float:
    """The share of syncs on the least-loaded path the flags route to (tenants are synced in
    a round robin, so a path's share of syncs is its share of tenants)."""
    routing = TenantMigration.from_env(flags)
    unified = sum(1 for t in tenant_ids if routing.should_use_bullmq(t)) / len(tenant_ids)
    return min(share for share in (unified, 1 - unified) if share > 0)


class CapacityRun:
    def __init__(self, options: CapacityOptions) -> None:
        options.check()
        self.options = options
        self.production = load_production()
        self.run_id = new_run_id()
        self.progress = Progress()
        self.started = time.monotonic()
        self.started_at = datetime.now(timezone.utc)
        self.git_sha = git_sha()  # the code this run measures: taken before it starts
        self.out = Path()

    def execute(self) -> int:
        """The command: 0 with a knee, 1 without (usage and infrastructure errors raise)."""
        return 0 if self.run().knee is not None else 1

    def run(self) -> CapacityResult:
        """The search, written to its run folder and printed (scale-out calls this per worker count)."""
        o = self.options
        self.progress(f"capacity {self.run_id}: PATH={o.path} WEEK={o.week} WORKERS={o.workers}, steps of "
                      f"{o.warmup_s:g} s warm-up + {o.hold_s:g} s hold, {o.arrivals} arrivals, budget {o.budget_s:g} s")
        start_run_hygiene(self.progress)
        with running_stack(o.stack) as stack:
            self.out = run_dir(self.run_id, o.results_root)
            for url in (stack.urls.redis_url, stack.urls.nats_url, stack.urls.database_url):
                check_load_target(url, os.environ)
            with scratch_database(stack.urls.database_url, "capacity") as database_url:
                clock = {"start": self._clock(database_url, "at the start")}
                servers = server_versions(stack.urls)
                tenants = self._load_tenants(database_url)
                setup = path_setup(o.path, o.week, [t.tenant_id for t in tenants], o.workers)
                criteria = Criteria(hold_s=o.hold_s, warmup_s=o.warmup_s, max_hold_s=o.max_hold_s,
                                    legacy_poll_s=setup.legacy_poll_s)
                settings = StepSettings(stack, database_url, [Tenant(t.tenant_id, t.data_source_id) for t in tenants],
                                        setup.flags, self.out, self.run_id[-6:], o.seed, o.arrivals, criteria, o.drain_s,
                                        smallest_share(setup.flags, [t.tenant_id for t in tenants]))
                env = {"DATABASE_URL": database_url, "REDIS_URL": stack.urls.redis_url,
                       "NATS_URL": stack.urls.nats_url, **setup.settings, **setup.flags}
                stage: Stage = FloorStage(o.workers, stack.urls.redis_url) if o.path == "floor" else \
                    PipelineStage(o.path, setup.roles, o.workers, env, database_url, stack.urls.redis_url)
                runner = StepRunner(settings, stage, self.progress)
                steps, knee, stopped = self._search(runner, settings)
                floor_flags = path_setup("floor", o.week, [t.tenant_id for t in tenants], o.workers).flags
                floor = self._floor(dataclasses.replace(settings, flags=floor_flags, smallest_share=1.0), steps, knee)
                clock["end"] = self._clock(database_url, "at the end")
            result = self._result(setup, criteria, steps, knee, stopped, floor, stack.mode, servers, clock)
        self._write(result)
        return result

    def _clock(self, database_url: str, when: str) -> dict[str, float]:
        with psycopg.connect(database_url) as conn:
            offset = measure_offset(conn)
        check_offset(offset, when)
        return offset.to_dict()

    def _load_tenants(self, database_url: str) -> list[SyntheticTenant]:
        scale = 1.0 if self.options.tenants is None else self.options.tenants / self.production.tenants
        return load_tenant_mix(database_url, self.production.tenant_counts(scale), self.options.seed, self.progress)

    def _step_estimate(self, settings: StepSettings, rate: float, steps: list[StepResult]) -> float:
        """Warm-up + the step's hold + the most any step so far spent beyond its load (stage
        start, Locust start, drain, stop), or a first guess."""
        overhead = max((s.wall_s - self.options.warmup_s - s.hold_s for s in steps), default=SETUP_ESTIMATE_S)
        return self.options.warmup_s + settings.hold_for(rate) + overhead

    def _search(self, runner: StepRunner, settings: StepSettings) -> tuple[list[StepResult], Knee | None, str]:
        o = self.options
        floor_reserve = o.warmup_s + o.hold_s + SETUP_ESTIMATE_S if o.floor and o.path != "floor" else 0.0
        limits = SearchLimits(start=o.start, max_steps=o.max_steps, repeats=o.repeats, reserve_s=floor_reserve,
                              budget_s=o.budget_s)
        done: list[StepResult] = []

        def run_step(rate: float, repeat_of: float | None) -> StepResult:
            step = runner(rate, repeat_of)
            done.append(step)
            self.progress(step_line(runner.count, step))
            return step

        outcome = Search(run_step, limits, estimate=lambda rate: self._step_estimate(settings, rate, done),
                         started=self.started).run()
        self.progress(f"search: {outcome.stopped}")
        return outcome.steps, outcome.knee, outcome.stopped

    def _floor(self, settings: StepSettings, steps: list[StepResult], knee: Knee | None) -> dict[str, Any] | None:
        """One step at the knee's rate against no-op workers; `settings` route every sync to BullMQ."""
        o = self.options
        if o.path == "floor" or not o.floor or knee is None:
            return None
        remaining = o.budget_s - (time.monotonic() - self.started)
        if remaining < self._step_estimate(settings, knee.syncs_per_s, steps):
            self.progress(f"floor: skipped, {remaining:.0f} s of the budget left")
            return None
        runner = StepRunner(settings, FloorStage(o.workers, settings.stack.urls.redis_url), self.progress)
        runner.count = len(steps)  # its own prefix and folder after the search's
        step = runner(knee.syncs_per_s)
        self.progress("floor " + step_line(runner.count, step))
        figures = step.job_latency_ms.get("floor", {})
        return {"rate_syncs_per_s": knee.syncs_per_s, "count": figures.get("count"), "p50": figures.get("p50"),
                "p95": figures.get("p95"), "p99": figures.get("p99"),
                "p99_upper": (figures.get("bounds") or {}).get("p99", {}).get("upper"),
                "sustainable": step.verdict == SUSTAINABLE, "verdict": step.verdict, "step": step}

    def _result(self, setup: PathSetup, criteria: Criteria, steps: list[StepResult], knee: Knee | None, stopped: str,
                floor: dict[str, Any] | None, stack_mode: str, servers: dict[str, str],
                clock: dict[str, Any]) -> CapacityResult:
        o = self.options
        sha = self.git_sha
        context = {"release": o.release or default_release(), "git_sha": sha, "dirty": sha.endswith("-dirty"),
                   "machine": machine(), "stack": stack_mode, "servers": servers, "libraries": library_versions(),
                   "seed": o.seed, "flags": setup.flags, "roles": list(setup.roles), "settings": setup.settings,
                   "tenants": o.tenants or self.production.tenants, "clock_offset_ms": clock}
        return CapacityResult(
            run_id=self.run_id, path=o.path, week=o.week, workers=o.workers, arrivals=o.arrivals, context=context,
            criteria={**criteria.to_dict(), "search": SearchLimits(start=o.start, max_steps=o.max_steps,
                                                                    budget_s=o.budget_s, repeats=o.repeats).to_dict()},
            steps=steps, knee=knee, bottleneck=self._bottleneck(steps, knee), production=self.production.to_dict(),
            floor=floor, started_at=self.started_at.isoformat(),
            duration_s=round(time.monotonic() - self.started, 1), stopped=stopped)

    @staticmethod
    def _bottleneck(steps: list[StepResult], knee: Knee | None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        failed = next((s for s in steps if s.verdict not in (SUSTAINABLE, "undecided")), None)
        at_knee = next((s for s in steps if knee is not None and s.rate_syncs_per_s == knee.syncs_per_s
                        and s.repeat_of is None), None)
        for when, step in (("first_unsustainable", failed), ("knee", at_knee)):
            if step is not None:
                found[when] = {"rate_syncs_per_s": step.rate_syncs_per_s, **bottleneck(step.cpu)}
        first = found.get("first_unsustainable") or found.get("knee") or {}
        return {"resource": first.get("resource"), "percent": first.get("percent"), "words": first.get("words"),
                **found}

    def _write(self, result: CapacityResult) -> None:
        result.path_ratio = path_ratio(result, self.out.parent)
        write_json(self.out / RESULT_FILE, result.to_dict())
        capacity_plot(self.out / "capacity.png", result)
        print(table(result.steps))
        print()
        print(summary(result))
        print(f"\nresults: {self.out}/ (capacity.json, capacity.png, steps/)")
