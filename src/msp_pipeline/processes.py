"""`python -m msp_pipeline run --role R`: one pipeline process.

Roles: scheduler (the legacy path's poller of scheduled_jobs), worker (the BullMQ worker),
legacy-analyzers, unified-analyzer, all (every role in one process). The scheduler and the
worker run the sync stages (`SyncRunner.handle_job`); several processes of any role can run
at once. SIGTERM or SIGINT sets the stop event: every component drains its in-flight work
and the process exits 0; if draining overruns the drain timeout (or a second signal
comes), it exits 1 at once with a message. A component that ends or fails on its own stops
the others and the process exits 1. A bad setting or flag stops start-up with one line
`error: ...` and exit code 2, before anything starts.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import NoReturn, Protocol

from msp_pipeline.bus import Bus
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.settings import Settings
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.migration import TenantMigration
from msp_pipeline.pool import open_pool
from msp_pipeline.sync import SyncRunner

ROLES = ("scheduler", "worker", "legacy-analyzers", "unified-analyzer")
JOB_ROLES = ("scheduler", "worker")  # the roles that run sync jobs
DRAIN_TIMEOUT_S = 30.0
LEGACY_SCHEDULER_SLOTS = 10  # connections for the legacy job handlers (more jobs wait for one)
EXIT_OK, EXIT_FAILED = 0, 1


class Component(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


HandleJob = Callable[[SyncJobData], Awaitable[SyncJobData | None]]
ComponentFactory = Callable[[Settings, Metrics, TenantMigration, HandleJob], Component]
SyncRunnerOpener = Callable[[Settings, Metrics, Sequence[str]], AbstractAsyncContextManager[HandleJob]]


class ComponentError(RuntimeError):
    """A component ended or failed without a stop signal, or failed while draining."""


def _scheduler(settings: Settings, metrics: Metrics, routing: TenantMigration, handle: HandleJob) -> Component:
    from msp_pipeline.legacy.scheduler import LegacyScheduler

    return LegacyScheduler(settings, metrics, routing, handle)


def _worker(settings: Settings, metrics: Metrics, routing: TenantMigration, handle: HandleJob) -> Component:
    from msp_pipeline.unified.worker import SyncWorker

    return SyncWorker(settings, metrics, routing, handle)


def _legacy_analyzers(settings: Settings, metrics: Metrics, routing: TenantMigration, _: HandleJob) -> Component:
    from msp_pipeline.legacy.consumers import LegacyAnalyzers

    return LegacyAnalyzers(settings, metrics, routing)


def _unified_analyzer(settings: Settings, metrics: Metrics, routing: TenantMigration, _: HandleJob) -> Component:
    from msp_pipeline.unified.service import UnifiedAnalyzerService

    return UnifiedAnalyzerService(settings, metrics, routing)


FACTORIES: dict[str, ComponentFactory] = {
    "scheduler": _scheduler,
    "worker": _worker,
    "legacy-analyzers": _legacy_analyzers,
    "unified-analyzer": _unified_analyzer,
}


async def _no_sync_jobs(job: SyncJobData) -> SyncJobData | None:
    raise RuntimeError(f"this process runs no sync jobs (job {job.job_key})")


def runner_pool_size(settings: Settings, roles: Sequence[str]) -> int:
    """One connection per job that can run at once, so no job waits for a connection."""
    return 1 + (settings.worker_concurrency if "worker" in roles else 0) + (
        LEGACY_SCHEDULER_SLOTS if "scheduler" in roles else 0)


@asynccontextmanager
async def open_sync_runner(settings: Settings, metrics: Metrics, roles: Sequence[str]) -> AsyncIterator[HandleJob]:
    """The process's one SyncRunner (its pool and NATS connection), shared by its roles."""
    if not any(role in JOB_ROLES for role in roles):
        yield _no_sync_jobs
        return
    pool = await open_pool(settings.database_url, max_size=runner_pool_size(settings, roles))
    try:
        bus = await Bus.connect(settings.nats_url, f"sync-runner-{os.getpid()}", metrics, settings.max_message_bytes,
                                settings.nats_namespace)
        try:
            yield SyncRunner(pool, bus, metrics, settings.sync_page_size).handle_job
        finally:
            await bus.close()
    finally:
        await pool.close()


async def run_roles(roles: Sequence[str], settings: Settings, routing: TenantMigration, metrics: Metrics,
                    stop: asyncio.Event, *, factories: Mapping[str, ComponentFactory] = FACTORIES,
                    sync_runner: SyncRunnerOpener = open_sync_runner) -> None:
    """Runs one component per role until `stop`, then waits for all to drain. A component
    that ends or fails first sets `stop` (the others drain) and ComponentError is raised."""
    async with sync_runner(settings, metrics, roles) as handle_job:
        components = [(role, factories[role](settings, metrics, routing, handle_job)) for role in roles]
        tasks = {asyncio.create_task(component.run(stop), name=role): role for role, component in components}
        stopped = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait({*tasks, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        early = sorted(tasks[task] for task in done if task in tasks)
        if early:
            log("Main", "component", f"{', '.join(early)} ended without a stop signal; stopping the others",
                level="error")
            stop.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [f"{role}: {type(outcome).__name__}: {outcome}" for role, outcome in zip(tasks.values(), outcomes)
                if isinstance(outcome, BaseException)]
    if early or failures:
        raise ComponentError("; ".join(failures) or f"{', '.join(early)} ended without a stop signal")


def _force_exit(code: int) -> NoReturn:
    os._exit(code)


async def run_process(roles: Sequence[str], settings: Settings, routing: TenantMigration, metrics: Metrics, *,
                      drain_timeout_s: float = DRAIN_TIMEOUT_S, stop: asyncio.Event | None = None,
                      factories: Mapping[str, ComponentFactory] = FACTORIES,
                      sync_runner: SyncRunnerOpener = open_sync_runner,
                      force_exit: Callable[[int], NoReturn] = _force_exit) -> int:
    """Runs the roles until SIGTERM/SIGINT (or `stop`); returns the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        if stop.is_set():
            log("Main", "shutdown", f"second {name} while draining; exiting now", level="error")
            force_exit(EXIT_FAILED)
        log("Main", "shutdown", f"{name}: draining in-flight work", drain_timeout_s=drain_timeout_s)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    try:
        main = asyncio.create_task(run_roles(roles, settings, routing, metrics, stop, factories=factories,
                                             sync_runner=sync_runner), name="roles")
        stopped = asyncio.create_task(stop.wait(), name="stop")
        await asyncio.wait({main, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(main), drain_timeout_s)
        except TimeoutError:
            log("Main", "shutdown", f"draining took over {drain_timeout_s:g} s; forcing exit", level="error",
                roles=list(roles))
            force_exit(EXIT_FAILED)
        except Exception as exc:  # noqa: BLE001 - a component failed: logged with its reason, exit 1
            log("Main", "shutdown", f"{type(exc).__name__}: {exc}", level="error", roles=list(roles))
            return EXIT_FAILED
        log("Main", "shutdown", "drained and stopped", roles=list(roles))
        return EXIT_OK
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
