"""The process runner with fake components (no servers): stop drains every role and exits
0, a component that fails or ends stops the others and exits 1, draining that overruns
forces an exit, SIGTERM sets the stop, bad flags exit 2 with one line, secrets are masked."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import pytest

from msp_pipeline import log as pipeline_log
from msp_pipeline.cli import main, settings_for_log
from msp_pipeline.contract.jobs import SyncJobData
from msp_pipeline.contract.redact import mask_url, mask_webhook
from msp_pipeline.contract.settings import Settings
from msp_pipeline.metrics import Metrics
from msp_pipeline.migration import TenantMigration
from msp_pipeline.processes import ROLES, HandleJob, run_process, runner_pool_size

SETTINGS = Settings("postgresql://u:pw@127.0.0.1/db", "redis://127.0.0.1:6379/0", "nats://127.0.0.1:4222")
ROUTING = TenantMigration.from_env({})


class ForcedExit(Exception):
    pass


def _force_exit(code: int) -> NoReturn:
    raise ForcedExit(code)


class FakeComponent:
    """Works on one item at a time until stopped, then finishes the item in hand."""

    def __init__(self, role: str, handle_job: HandleJob, behaviour: str = "drains") -> None:
        self.role, self.handle_job, self.behaviour = role, handle_job, behaviour
        self.started = asyncio.Event()
        self.finished_in_hand = False

    async def run(self, stop: asyncio.Event) -> None:
        self.started.set()
        if self.behaviour == "fails":
            raise RuntimeError(f"{self.role} lost its connection")
        if self.behaviour == "returns":
            return
        await stop.wait()
        if self.behaviour == "hangs":
            await asyncio.sleep(3600)
        await asyncio.sleep(0.01)  # the in-flight item
        self.finished_in_hand = True


class Fakes:
    def __init__(self, behaviours: dict[str, str] | None = None) -> None:
        self.behaviours = behaviours or {}
        self.components: dict[str, FakeComponent] = {}
        self.runner_opened = 0

    def factory(self, role: str) -> Any:
        def make(settings: Settings, metrics: Metrics, routing: TenantMigration, handle: HandleJob) -> FakeComponent:
            component = FakeComponent(role, handle, self.behaviours.get(role, "drains"))
            self.components[role] = component
            return component
        return make

    @property
    def factories(self) -> dict[str, Any]:
        return {role: self.factory(role) for role in ROLES}

    @asynccontextmanager
    async def sync_runner(self, settings: Settings, metrics: Metrics, roles: Sequence[str]) -> AsyncIterator[HandleJob]:
        self.runner_opened += 1

        async def handle(job: SyncJobData) -> SyncJobData | None:
            return None

        yield handle


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    pipeline_log.set_stream(stream)
    yield stream
    pipeline_log.set_stream(__import__("sys").stderr)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def _run(fakes: Fakes, roles: Sequence[str], *, stop_after: float | None = 0.05,
               drain_timeout_s: float = 5.0, send_signal: bool = False) -> int:
    stop = asyncio.Event()

    async def stopper() -> None:
        await asyncio.sleep(stop_after or 0)
        if send_signal:
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            stop.set()

    task = asyncio.create_task(stopper()) if stop_after is not None else None
    code = await run_process(roles, SETTINGS, ROUTING, Metrics(), drain_timeout_s=drain_timeout_s, stop=stop,
                             factories=fakes.factories, sync_runner=fakes.sync_runner, force_exit=_force_exit)
    if task:
        await task
    return code


def test_stop_drains_every_role_and_exits_0(logs: io.StringIO) -> None:
    fakes = Fakes()
    assert asyncio.run(_run(fakes, ROLES)) == 0
    assert sorted(fakes.components) == sorted(ROLES)
    assert all(c.finished_in_hand for c in fakes.components.values())
    assert fakes.runner_opened == 1  # one sync runner shared by scheduler and worker
    assert fakes.components["scheduler"].handle_job is fakes.components["worker"].handle_job
    assert _lines(logs)[-1]["message"] == "drained and stopped"


def test_sigterm_sets_the_stop_event(logs: io.StringIO) -> None:
    fakes = Fakes()
    assert asyncio.run(_run(fakes, ["worker"], send_signal=True)) == 0
    assert fakes.components["worker"].finished_in_hand
    assert any(line["message"].startswith("SIGTERM: draining") for line in _lines(logs))


@pytest.mark.parametrize("behaviour", ["fails", "returns"])
def test_a_component_that_ends_on_its_own_stops_the_others_and_exits_1(logs: io.StringIO, behaviour: str) -> None:
    fakes = Fakes({"legacy-analyzers": behaviour})
    assert asyncio.run(_run(fakes, ROLES, stop_after=None)) == 1
    assert fakes.components["worker"].finished_in_hand and fakes.components["unified-analyzer"].finished_in_hand
    last = _lines(logs)[-1]
    assert last["level"] == "error" and "legacy-analyzers" in last["message"]


def test_draining_that_overruns_forces_an_exit(logs: io.StringIO) -> None:
    fakes = Fakes({"unified-analyzer": "hangs"})
    with pytest.raises(ForcedExit) as forced:
        asyncio.run(_run(fakes, ROLES, drain_timeout_s=0.2))
    assert forced.value.args == (1,)
    assert "draining took over 0.2 s" in _lines(logs)[-1]["message"]


def test_pool_covers_every_job_that_can_run_at_once() -> None:
    assert runner_pool_size(SETTINGS, ["worker"]) == SETTINGS.worker_concurrency + 1
    assert runner_pool_size(SETTINGS, ROLES) == SETTINGS.worker_concurrency + 11


@pytest.mark.parametrize(("env", "variable"), [
    ({"USE_BULLMQ": "maybe"}, "USE_BULLMQ"),
    ({"MIGRATION_PERCENTAGE": "150"}, "MIGRATION_PERCENTAGE"),
    ({"SYNC_PAGE_SIZE": "0"}, "SYNC_PAGE_SIZE"),
    ({"DATABASE_URL": ""}, "DATABASE_URL"),
])
def test_a_bad_flag_exits_2_with_one_line_naming_it(capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                    variable: str) -> None:
    base = {"DATABASE_URL": SETTINGS.database_url, "REDIS_URL": SETTINGS.redis_url, "NATS_URL": SETTINGS.nats_url}
    assert main(["run", "--role", "all"], {**base, **env}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and variable in err


def test_an_unknown_role_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--role", "janitor"], {})
    assert exited.value.code == 2
    assert "janitor" in capsys.readouterr().err


def test_secrets_are_masked_in_the_start_up_settings() -> None:
    assert mask_url("postgresql://postgres:s3cret@127.0.0.1:5432/db") == "postgresql://postgres:***@127.0.0.1:5432/db"
    assert mask_url("redis://:p%40ss@127.0.0.1:6379/15") == "redis://:***@127.0.0.1:6379/15"
    assert mask_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert mask_url("postgresql://u@h/db?password=x&sslmode=require") == \
        "postgresql://u@h/db?password=***&sslmode=require"
    assert mask_webhook("https://hooks.example.test/services/T0/B0/s3cret") == "https://hooks.example.test/***"
    fields = settings_for_log(Settings("postgresql://u:s3cret@h/db", "redis://:s3cret@h/0", "nats://u:s3cret@h",
                                       comparison_webhook_url="https://u:s3cret@hooks.test/x?token=s3cret"))
    assert "s3cret" not in json.dumps(fields, default=str)
    assert fields["sync_page_size"] == 100 and fields["database_url"] == "postgresql://u:***@h/db"


def test_the_role_table_builds_each_real_component() -> None:
    from msp_pipeline.processes import FACTORIES

    async def handle(job: SyncJobData) -> SyncJobData | None:
        return None

    components = {role: FACTORIES[role](SETTINGS, Metrics(), ROUTING, handle) for role in ROLES}
    assert {role: type(c).__name__ for role, c in components.items()} == {
        "scheduler": "LegacyScheduler", "worker": "SyncWorker", "legacy-analyzers": "LegacyAnalyzers",
        "unified-analyzer": "UnifiedAnalyzerService"}
    assert all(asyncio.iscoroutinefunction(c.run) for c in components.values())
    assert components["scheduler"].handle_job is handle and components["worker"].handle_job is handle
