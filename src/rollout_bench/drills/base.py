"""What every drill shares: its own embedded stack (Redis with AOF), a scratch database with
tenants, the pipeline processes, a steady load, a drain, and the lost/duplicated count."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from msp_pipeline.migration import TenantMigration
from rollout_bench.collect import records as collect
from rollout_bench.drills.load import SteadyLoad
from rollout_bench.load.weeks import WEEKS
from rollout_bench.pipeline.supervisor import Supervisor
from rollout_bench.pipeline.warmup import warm_up
from rollout_bench.results.store import new_run_id, write_json
from rollout_bench.stack import RunningStack, running_stack
from rollout_bench.stack.scratch import scratch_database
from rollout_bench.tenants import SyntheticTenant, generate_tenants, write_tenants

DRILL_SETTINGS = {"LEGACY_POLL_INTERVAL_S": "1", "LEGACY_DEBOUNCE_S": "2", "UNIFIED_SETTLE_S": "2"}


@dataclass
class DrillCheck:
    name: str
    target: str
    observed: Any
    passed: bool


@dataclass
class DrillResult:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[DrillCheck] = field(default_factory=list)

    def check(self, name: str, target: str, observed: Any, passed: bool) -> None:
        self.checks.append(DrillCheck(name, target, observed, bool(passed)))

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


@dataclass
class DrillContext:
    stack: RunningStack
    database_url: str
    prefix: str
    tenants: list[SyntheticTenant]
    supervisor: Supervisor
    env: dict[str, str]
    progress: Callable[[str], None]
    routing: TenantMigration

    def steady_load(self, interval_s: float = 0.5) -> SteadyLoad:
        return SteadyLoad(self.database_url, self.stack.urls.redis_url, self.prefix, self.tenants,
                          lambda: self.routing, interval_s)

    def drain(self, jobs: list[dict[str, Any]], timeout_s: float) -> collect.JobTotals:
        deadline = time.monotonic() + timeout_s
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while True:
                totals = collect.job_totals(conn, jobs)
                if totals.lost == 0 or time.monotonic() > deadline:
                    return totals
                time.sleep(1.0)

    def analyses_per_sync(self, jobs: list[dict[str, Any]], timeout_s: float) -> tuple[set[str], dict[str, int]]:
        """Waits until every new-path sync the load sent has been analysed (or the timeout);
        returns (those syncs, analyses per analysed sync)."""
        syncs = {job["job_key"].split(":")[0] for job in jobs if job["path"] == "unified"}
        deadline = time.monotonic() + timeout_s
        while True:
            per_sync = {str(k): int(v) for k, v in self.query("drills/analyses_per_sync")}
            if syncs <= set(per_sync) or time.monotonic() > deadline:
                return syncs, per_sync
            time.sleep(1)

    def alert_accuracy(self) -> dict[str, int]:
        """Active alerts against the planted findings of every tenant (drills mutate nothing)."""
        with psycopg.connect(self.database_url) as conn:
            found = collect.active_findings(conn)
        return collect.accuracy({t.tenant_id: t.expected_findings for t in self.tenants}, found)

    def query(self, sql_name: str, params: Any = None) -> list[tuple[Any, ...]]:
        from rollout_bench.sql import load

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(load(sql_name), params).fetchall()


@contextmanager
def drill_context(name: str, out: Path, progress: Callable[[str], None], week: int = 5,
                  roles: tuple[str, ...] | None = None, proxy_delay_s: float = 0.0,
                  tenants: list[SyntheticTenant] | None = None) -> Iterator[DrillContext]:
    with running_stack("embedded", redis_aof=True, quiet=True) as stack:
        progress(f"{name}: {stack.describe()}")
        with scratch_database(stack.urls.database_url, "drill") as database_url:
            tenants = tenants or generate_tenants("small", 6, seed=7)
            with psycopg.connect(database_url) as conn:
                write_tenants(conn, tenants)
            flags = WEEKS[week].flags([t.tenant_id for t in tenants])
            prefix = f"drill-{name}"
            pipeline_db = database_url
            proxy = None
            if proxy_delay_s:
                from urllib.parse import urlsplit

                from rollout_bench.drills.proxy import LatencyProxy

                parts = urlsplit(database_url)
                proxy = LatencyProxy(parts.hostname or "127.0.0.1", parts.port or 5432, proxy_delay_s).__enter__()
                pipeline_db = database_url.replace(f":{parts.port}/", f":{proxy.port}/")
                progress(f"{name}: pipeline reaches Postgres through a proxy adding {proxy_delay_s * 1000:.0f} ms")
            env = {"DATABASE_URL": pipeline_db, "REDIS_URL": stack.urls.redis_url, "NATS_URL": stack.urls.nats_url,
                   "BULLMQ_PREFIX": prefix, **DRILL_SETTINGS, **flags}
            routing = TenantMigration.from_env(flags)
            try:
                with Supervisor(env, out / "logs") as supervisor:
                    for role in roles or WEEKS[week].roles:
                        supervisor.start(role)
                    warm_up(tenants, routing, database_url, stack.urls.redis_url, prefix, timeout_s=60)
                    yield DrillContext(stack, database_url, prefix, tenants, supervisor, env, progress, routing)
            finally:
                if proxy:
                    proxy.__exit__(None, None, None)


def duplicated_history_rows(context: DrillContext) -> int:
    return int(context.query("drills/duplicated_history")[0][0])


def write_drill_result(result: DrillResult, root: Path) -> Path:
    out = root / "drills" / f"{new_run_id()}-{result.name}"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "summary.json", {"schema": 1, "drill": result.name, "passed": result.passed,
                                      "figures": result.figures,
                                      "checks": [c.__dict__ for c in result.checks]})
    return out


def render(result: DrillResult) -> str:
    lines = [f"drill {result.name}: {'PASS' if result.passed else 'FAIL'}"]
    lines += [f"  {'ok  ' if c.passed else 'FAIL'} {c.name}: observed {c.observed}, target {c.target}"
              for c in result.checks]
    lines += [f"  {k}: {json.dumps(v)}" for k, v in result.figures.items()]
    return "\n".join(lines)
