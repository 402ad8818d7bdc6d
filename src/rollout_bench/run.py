"""`make loadtest WEEK=n PROFILE=p`: the rollout gate's one runner object.

It owns everything it starts (stack, scratch database, pipeline processes, Locust) and
stops all of it on exit, Ctrl-C or failure. Steps: stack -> tenants -> pipeline with the
week's flags -> open-workload load -> drain -> collect -> gates -> verdict -> results."""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from msp_pipeline.migration import TenantMigration
from rollout_bench.collect import records as collect
from rollout_bench.collect.bench import run_benchmarks
from rollout_bench.collect.clock import ClockOffset, check_offset, measure_offset
from rollout_bench.collect.context import server_versions
from rollout_bench.console import Progress
from rollout_bench.errors import InfrastructureError, UserError
from rollout_bench.judge.gates import load_gates
from rollout_bench.load import LoadResult, run_load
from rollout_bench.load.config import LoadConfig, Tenant
from rollout_bench.load.cpu import CpuSampler
from rollout_bench.load.machine_events import events_between, read_mark
from rollout_bench.load.production import load_production
from rollout_bench.load.profiles import LoadProfile, load_profile_named
from rollout_bench.load.sampler import QueueDepthSampler
from rollout_bench.load.weeks import WEEKS, WeekScenario
from rollout_bench.paths import gates_file
from rollout_bench.pipeline.floor import measure_floor
from rollout_bench.pipeline.settle import settle_syncs
from rollout_bench.pipeline.supervisor import Supervisor
from rollout_bench.pipeline.warmup import warm_up
from rollout_bench.results.build import RunRecord, finish_run
from rollout_bench.results.store import new_run_id, run_dir
from rollout_bench.results.summary import describes
from rollout_bench.safety import check_load_target, redact_obj
from rollout_bench.stack import running_stack
from rollout_bench.stack.orphans import own_nats_namespace, own_redis_prefix, record_path, start_run_hygiene
from rollout_bench.stack.scratch import enable_pg_stat_statements, scratch_database
from rollout_bench.tenants import SyntheticTenant, generate_tenants, write_tenants

SETTLE_MARGIN_S = 3.0


@dataclass(frozen=True)
class LoadtestOptions:
    week: int
    profile: str
    stack: str = "auto"
    release: str = ""
    seed: int = 1
    ui: bool = False
    processes: int = 1
    gates_file: Path | None = None  # default: ops/gates.toml of the project
    results_root: Path | None = None  # default: paths.results_dir()
    keep_database: bool = False
    series_earlier: tuple[Path, ...] = ()  # the run folders of this series before this run (--runs N)
    series_runs: int = 1  # N: the last run of a series judges the release comparison over all N


def private_config(config: LoadConfig, out: Path) -> Path:
    """The Locust config holds the URLs (with any password): it goes to a private temp
    file; the run folder keeps a redacted copy."""
    import json
    import tempfile
    from dataclasses import asdict

    handle, name = tempfile.mkstemp(prefix="loadtest-config-", suffix=".json")
    os.close(handle)
    path = Path(name)
    path.chmod(0o600)
    atexit.register(path.unlink, missing_ok=True)
    record_path(path)  # removed by `stack down` or the next run if this run is killed
    config.save(path)
    (out / "load_config.json").write_text(json.dumps(redact_obj(asdict(config)), indent=2))
    return path


def load_tenant_mix(database_url: str, mix: Sequence[tuple[str, int]], seed: int,
                    progress: Callable[[str], None]) -> list[SyntheticTenant]:
    """Generates and writes the tenants of `mix` ((tenant profile, count) pairs), in order."""
    tenants: list[SyntheticTenant] = []
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        for profile_name, count in mix:
            batch = generate_tenants(profile_name, count, seed, first_index=len(tenants))
            write_tenants(conn, batch)
            tenants += batch
    progress(f"tenants: {len(tenants)} loaded in {time.perf_counter() - started:.1f} s "
             f"({', '.join(f'{n} {p}' for p, n in mix)})")
    return tenants


class LoadtestRun:
    def __init__(self, options: LoadtestOptions) -> None:
        if options.week not in WEEKS:
            raise UserError(f"WEEK={options.week} is not a rollout week; allowed: {', '.join(map(str, WEEKS))}")
        self.options = options
        self.scenario: WeekScenario = WEEKS[options.week]
        self.production = load_production()
        self.profile: LoadProfile = load_profile_named(options.profile, self.production)
        self.gates = load_gates(options.gates_file or gates_file(), describes)
        self.progress = Progress()
        self.run_id = new_run_id()
        self.out = Path()  # created by execute() once the stack is up

    def execute(self) -> int:
        o, progress = self.options, self.progress
        started_at = datetime.now(timezone.utc)
        progress(f"run {self.run_id}: week {o.week} ({self.scenario.title}), profile {o.profile}: "
                 f"{self.profile.rate_line(self.production)}")
        start_run_hygiene(progress)
        with running_stack(o.stack) as stack:
            self.out = run_dir(self.run_id, o.results_root)
            urls = stack.urls
            for url in (urls.redis_url, urls.nats_url, urls.database_url):
                check_load_target(url, os.environ)
            with scratch_database(urls.database_url, "loadtest", keep=o.keep_database) as database_url:
                if not enable_pg_stat_statements(database_url):
                    progress("pg_stat_statements is not loaded: the query-count cross-check will be INCONCLUSIVE")
                clock = {"start": self._clock(database_url, "at the start")}
                with psycopg.connect(database_url) as conn:
                    evictions_before = collect.statement_evictions(conn)
                servers = server_versions(urls)
                tenants = self._load_tenants(database_url)
                ids = [t.tenant_id for t in tenants]
                flags = self.scenario.flags(ids)
                routing = TenantMigration.from_env(flags)
                prefix = f"lt-{self.run_id[-6:]}"
                own_redis_prefix(urls.redis_url, prefix)
                own_nats_namespace(stack, prefix)
                env = {"DATABASE_URL": database_url, "REDIS_URL": urls.redis_url, "NATS_URL": urls.nats_url,
                       "BULLMQ_PREFIX": prefix, "NATS_NAMESPACE": prefix, **self.profile.shortened_settings, **flags}
                mutable = ids[: int(len(ids) * self.profile.mutated_share)]
                candidates = {t.tenant_id: t.mutation_candidates() for t in tenants if t.tenant_id in mutable}
                config = LoadConfig(urls.redis_url, database_url, urls.nats_url, prefix, flags,
                                    [Tenant(t.tenant_id, t.data_source_id) for t in tenants], mutable,
                                    self.profile.shape, str(self.out), o.seed, mutation_candidates=candidates,
                                    rate_syncs_per_s=self.profile.rate_syncs_per_s, nats_namespace=prefix)
                config_path = private_config(config, self.out)
                progress("floor: BullMQ with a no-op worker on this Redis (the queue's own latency)")
                floor = measure_floor(urls.redis_url)
                with Supervisor(env, self.out / "logs") as supervisor:
                    progress(f"pipeline: starting {', '.join(self.scenario.roles)}")
                    for role in self.scenario.roles:
                        supervisor.start(role)
                    took = warm_up(tenants, routing, database_url, urls.redis_url, prefix,
                                   timeout_s=60 + 3 * float(env.get("LEGACY_POLL_INTERVAL_S", "60")))
                    progress(f"pipeline: warmed up in {took:.1f} s (warm-up syncs are not measured)")
                    with QueueDepthSampler(database_url, urls.redis_url, prefix) as sampler, CpuSampler() as cpu:
                        progress(f"load: shape {self.profile.shape} ({'web UI on 127.0.0.1:8089' if o.ui else 'headless'})")
                        machine_start = read_mark()  # a VM snapshot or a clock step from here on spoils the run
                        phases = {"load_start": time.time()}
                        load = run_load(config_path, self.out, processes=o.processes, ui=o.ui)
                        phases["load_end"] = time.time()
                        if load.counts.get("arrival_bugs"):
                            raise InfrastructureError(f"the load generator hit a bug ({load.counts['arrival_bugs']} "
                                                      f"arrivals); see {self.out / 'locust.log'}")
                        mutated = sorted({str(m["tenant_id"]) for m in load.mutations})
                        load.jobs += settle_syncs([t for t in tenants if t.tenant_id in mutated], routing,
                                                  database_url, urls.redis_url, prefix)
                        offered = load.offered_rate()
                        multiple = (offered["syncs_per_s"] or 0) / self.production.syncs_per_s
                        progress(f"load: done, offered {offered['syncs_per_s']} syncs/s ({offered['jobs_per_s']} jobs/s, "
                                 f"{multiple:.3g}x production); {len(load.jobs)} jobs enqueued (a settle sync for "
                                 f"each of {len(mutated)} mutated tenants); draining")
                        self._drain(database_url, load)
                        phases["drain_end"] = time.time()
                        machine_events = events_between(machine_start, read_mark())
                    scrapes = supervisor.scrape()
                    exit_codes = supervisor.stop_all()
                if self.profile.benchmarks:
                    progress("benchmarks: the pytest-benchmark suites on this stack (results in bench.json)")
                    run_benchmarks(urls, self.out)
                clock["end"] = self._clock(database_url, "at the end")
                progress("collecting results")
                record = RunRecord(
                    run_id=self.run_id, options=o, scenario=self.scenario, profile=self.profile, flags=flags,
                    env=env, started_at=started_at, tenants=tenants, routing=routing, mutable=set(mutable),
                    load=load, sampler=sampler, scrapes=scrapes, exit_codes=exit_codes, stack_mode=stack.mode,
                    nats_url=urls.nats_url, out=self.out, cpu=cpu, clock=clock, evictions_before=evictions_before,
                    servers=servers, production=self.production, phases=phases, floor=floor,
                    machine_events=machine_events)
                with psycopg.connect(database_url) as conn:
                    return finish_run(record, conn, self.gates, self.out, progress)

    def _clock(self, database_url: str, when: str) -> ClockOffset:
        with psycopg.connect(database_url) as conn:
            offset = measure_offset(conn)
        check_offset(offset, when)
        return offset

    def _load_tenants(self, database_url: str) -> list[SyntheticTenant]:
        return load_tenant_mix(database_url, self.profile.tenant_mix, self.options.seed, self.progress)

    def _drain(self, database_url: str, load: LoadResult) -> None:
        """Waits until every enqueued job is accounted for and analyses stop arriving."""
        deadline = time.monotonic() + self.profile.drain_timeout_s
        settle = max(float(self.profile.shortened_settings.get("LEGACY_DEBOUNCE_S", "300")),
                     float(self.profile.shortened_settings.get("UNIFIED_SETTLE_S", "5"))) + SETTLE_MARGIN_S
        last_count, last_change = -1, time.monotonic()
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                totals = collect.job_totals(conn, load.jobs)
                analyses = len(collect.analyses(conn))
                if analyses != last_count:
                    last_count, last_change = analyses, time.monotonic()
                if totals.lost == 0 and time.monotonic() - last_change >= settle:
                    self.progress(f"drained: {totals.completed} jobs completed, {analyses} analyses")
                    return
                time.sleep(1.0)
        self.progress("drain: timed out; what is left is reported as still queued (backlog) or lost")

