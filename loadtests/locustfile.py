"""Locust entry point of the rollout gate: `locust -f loadtests/locustfile.py` with
LOADTEST_CONFIG pointing at the run's config (written by `python -m rollout_bench loadtest`).
`loadtests` is installed with the project, so Locust imports it from anywhere.

The shape comes from the config. Each process fires its share of the arrival schedule
(loadtests/distribution.py: alone, or as workers of a master); user classes:
TenantMutationUser, and LinkedFloodUser when LINKED_FLOOD_PER_S is set."""

from __future__ import annotations

import os
from typing import Any

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests import web
from loadtests.aio import close_shared_loop
from loadtests.distribution import Distribution
from loadtests.recorder import RECORDER
from loadtests.shapes import SHAPES
from loadtests.users import LinkedFloodUser, TenantMutationUser  # noqa: F401
from rollout_bench.load.config import LoadConfig

_CONFIG = LoadConfig.load() if os.environ.get("LOADTEST_CONFIG") else None
_FLOOD = _CONFIG is not None and float(_CONFIG.extra.get("LINKED_FLOOD_PER_S", "0")) > 0
if not _FLOOD:
    del LinkedFloodUser

_SHAPE = SHAPES[_CONFIG.shape if _CONFIG else "smoke"].with_rate(_CONFIG.rate_syncs_per_s if _CONFIG else None,
                                                                 _CONFIG.duration_s if _CONFIG else None)


class LoadShape(_SHAPE):  # type: ignore[misc,valid-type]
    """The run's shape (the one class Locust picks up)."""

    users_per_process = 2 if _FLOOD else 1  # the fixed-count users: mutation (and flood)


if _CONFIG is not None:
    Distribution(_CONFIG, LoadShape()).install()


@events.init.add_listener
def on_init(environment: Any, **_: Any) -> None:
    from rollout_bench.safety import check_load_target

    if _CONFIG is not None:
        for url in (_CONFIG.redis_url, _CONFIG.database_url, _CONFIG.nats_url):
            check_load_target(url, os.environ)
    if environment.web_ui and _CONFIG is not None:
        web.add_pipeline_tab(environment.web_ui, _CONFIG)


@events.report_to_master.add_listener
def on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    data["rollout"] = RECORDER.drain()


@events.worker_report.add_listener
def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    RECORDER.absorb(data.get("rollout"))


@events.quitting.add_listener
def on_quitting(environment: Any, **_: Any) -> None:
    if _CONFIG is not None and not isinstance(environment.runner, WorkerRunner):
        RECORDER.write(_CONFIG.out_dir)


@events.quit.add_listener
def on_quit(**_: Any) -> None:
    close_shared_loop()


__all__ = ["LoadShape", "MasterRunner"]
