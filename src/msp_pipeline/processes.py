"""`python -m msp_pipeline run --role R`: starts one pipeline process.

Roles: scheduler (the legacy poller of scheduled_jobs), worker (the BullMQ worker),
legacy-analyzers, unified-analyzer, all. SIGTERM or SIGINT sets the stop event: every
component drains its in-flight work and the process exits 0 (or 1 if draining overruns
DRAIN_TIMEOUT_S). A bad setting or flag stops start-up: one line, exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from .bus import Bus
from .jobs import SyncJobData
from .log import log
from .metrics import Metrics
from .migration import ConfigError, TenantMigration
from .pool import open_pool
from .schema import apply_migrations
from .settings import Settings
from .sync import SyncRunner

ROLES = ("scheduler", "worker", "legacy-analyzers", "unified-analyzer")
DRAIN_TIMEOUT_S = 30.0


class Component(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


HandleJob = Callable[[SyncJobData], Awaitable[SyncJobData | None]]
ComponentFactory = Callable[[Settings, Metrics, TenantMigration, HandleJob], Component]


def _scheduler(settings: Settings, metrics: Metrics, routing: TenantMigration, handle: HandleJob) -> Component:
    from .legacy import LegacyScheduler

    return LegacyScheduler(settings, metrics, routing, handle)


def _worker(settings: Settings, metrics: Metrics, routing: TenantMigration, handle: HandleJob) -> Component:
    from .unified.worker import SyncWorker

    return SyncWorker(settings, metrics, routing, handle)


def _legacy_analyzers(settings: Settings, metrics: Metrics, routing: TenantMigration, _: HandleJob) -> Component:
    from .legacy import LegacyAnalyzers

    return LegacyAnalyzers(settings, metrics, routing)


def _unified_analyzer(settings: Settings, metrics: Metrics, routing: TenantMigration, _: HandleJob) -> Component:
    from .unified.service import UnifiedAnalyzerService

    return UnifiedAnalyzerService(settings, metrics, routing)


FACTORIES: dict[str, ComponentFactory] = {
    "scheduler": _scheduler,
    "worker": _worker,
    "legacy-analyzers": _legacy_analyzers,
    "unified-analyzer": _unified_analyzer,
}


def mask_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


async def run_roles(roles: list[str], settings: Settings, routing: TenantMigration, metrics: Metrics,
                    stop: asyncio.Event, factories: Mapping[str, ComponentFactory] = FACTORIES) -> None:
    """Runs the components of the roles until `stop`; the sync runner is shared."""
    needs_sync = any(r in ("scheduler", "worker") for r in roles)
    pool = await open_pool(settings.database_url, max_size=4) if needs_sync else None
    bus = await Bus.connect(settings.nats_url, "sync-runner", metrics) if needs_sync else None

    async def handle(job: SyncJobData) -> SyncJobData | None:
        assert pool is not None and bus is not None
        return await SyncRunner(pool, bus, metrics, settings.sync_page_size).handle_job(job)

    try:
        components = [factories[role](settings, metrics, routing, handle) for role in roles]
        await asyncio.gather(*(component.run(stop) for component in components))
    finally:
        if bus:
            await bus.close()
        if pool:
            await pool.close()


async def _main_async(roles: list[str], settings: Settings, routing: TenantMigration, metrics_port: int) -> int:
    metrics = Metrics()
    metrics.serve(metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log("Main", "startup", "pipeline process started", roles=roles, pid=os.getpid(),
        routing=routing.describe(), metrics_port=metrics_port,
        database_url=mask_url(settings.database_url), redis_url=mask_url(settings.redis_url),
        nats_url=mask_url(settings.nats_url), legacy_poll_interval_s=settings.legacy_poll_interval_s,
        legacy_debounce_s=settings.legacy_debounce_s, worker_concurrency=settings.worker_concurrency)
    task = asyncio.create_task(run_roles(roles, settings, routing, metrics, stop))
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:  # a component ended on its own: that is a failure
        task.result()
        log("Main", "shutdown", "components ended without a stop signal", level="error")
        return 1
    try:
        await asyncio.wait_for(task, DRAIN_TIMEOUT_S)
    except asyncio.TimeoutError:
        log("Main", "shutdown", f"draining took over {DRAIN_TIMEOUT_S:g} s; exiting", level="error")
        return 1
    log("Main", "shutdown", "drained and stopped", roles=roles)
    return 0


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m msp_pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start a pipeline process")
    run.add_argument("--role", required=True, choices=(*ROLES, "all"))
    run.add_argument("--metrics-port", type=int, default=None, help="serve /metrics on 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    environment = os.environ if env is None else env
    try:
        settings = Settings.from_env(environment)
        routing = TenantMigration.from_env(environment)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    roles = list(ROLES) if args.role == "all" else [args.role]
    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    try:
        apply_migrations(settings.database_url)
    except Exception as exc:  # noqa: BLE001 - start-up: say why in one line
        print(f"error: cannot prepare the database: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_main_async(roles, settings, routing, port))


