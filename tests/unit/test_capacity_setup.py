"""What PATH, WEEK and WORKERS mean for a capacity search (capacity/setup.py), and the
one-line errors for choices that do not go together (capacity/run.py's options)."""

from __future__ import annotations

import pytest

from msp_pipeline.migration import TenantMigration
from rollout_bench.capacity.run import CapacityOptions, smallest_share
from rollout_bench.capacity.setup import path_setup
from rollout_bench.errors import UserError

TENANTS = [f"tenant-{i:03d}" for i in range(200)]


def _on_new_path(flags: dict[str, str]) -> int:
    routing = TenantMigration.from_env(flags)
    return sum(1 for t in TENANTS if routing.should_use_bullmq(t))


def test_each_path_routes_as_it_says() -> None:
    unified, legacy = path_setup("unified", 5, TENANTS, 1), path_setup("legacy", 5, TENANTS, 1)
    mix, floor = path_setup("mix", 4, TENANTS, 1), path_setup("floor", 5, TENANTS, 1)
    assert _on_new_path(unified.flags) == 200 and _on_new_path(legacy.flags) == 0
    assert _on_new_path(floor.flags) == 200 and floor.roles == ()  # the floor step's generator feeds BullMQ only
    assert 60 <= _on_new_path(mix.flags) <= 140
    assert "scheduler" in legacy.roles and legacy.legacy_poll_s == 2.0
    assert smallest_share(unified.flags, TENANTS) == 1.0 and smallest_share(legacy.flags, TENANTS) == 1.0
    assert smallest_share(mix.flags, TENANTS) == min(_on_new_path(mix.flags), 200 - _on_new_path(mix.flags)) / 200


@pytest.mark.parametrize(("path", "week", "workers", "message"), [
    ("both", 5, 1, "PATH='both' is not a capacity path; allowed: unified, legacy, mix, floor"),
    ("unified", 8, 1, "WEEK=8 is not a rollout week"),
    ("unified", 5, 0, "WORKERS=0 is not allowed; use 1 to 16"),
    ("legacy", 6, 1, "PATH=legacy needs the legacy scheduler and analyzers, which week 6 does not start"),
    ("legacy", 5, 2, "WORKERS=2 with PATH=legacy: legacy runs no BullMQ job"),
])
def test_choices_that_do_not_go_together_are_one_line_errors(path: str, week: int, workers: int, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        path_setup(path, week, TENANTS, workers)


@pytest.mark.parametrize(("options", "message"), [
    ({"arrivals": "burst"}, "--arrivals 'burst' is not allowed; use one of uniform, poisson"),
    ({"hold_s": 2.0}, "--hold 2 is not allowed; use 5 s or more"),
    ({"max_hold_s": 20.0}, "--max-hold 20 is below --hold 30"),
    ({"start": 0.0}, "--start 0 is not allowed"),
    ({"tenants": 0}, "--tenants 0 is not allowed"),
])
def test_bad_options_are_refused_before_anything_starts(options: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        CapacityOptions(**options).check()  # type: ignore[arg-type]
