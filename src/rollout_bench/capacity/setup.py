"""What PATH means for a capacity search: the flags the pipeline (and the generator, which
routes each sync as the pipeline would) runs with, the roles it starts, and the settings.

- unified: every tenant on the new path (week 5's flags, MIGRATION_PERCENTAGE=100), the
  week's roles (week 5: legacy still running, idle);
- legacy: both flags off (the plan's rollback state: every job through scheduled_jobs and
  the four analyzers); needs a week whose roles include the legacy ones (1-5);
- mix: the week's own flags (week 4: half the tenants on each path);
- floor: no pipeline, no-op BullMQ workers; the generator routes everything to BullMQ.
Every path runs with the smoke profile's shortened legacy poll (2 s) and debounce (3 s), so
legacy work finishes within a step; the legacy latency target follows the poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rollout_bench.capacity.result import CAPACITY_PATHS
from rollout_bench.errors import UserError
from rollout_bench.load.profiles import LOAD_PROFILES
from rollout_bench.load.weeks import WEEKS

LEGACY_FLAGS = {"USE_BULLMQ": "false", "USE_UNIFIED_ANALYZER": "false", "COMPARE_ANALYZERS": "false",
                "BULLMQ_TENANTS": "", "UNIFIED_ANALYZER_TENANTS": "", "MIGRATION_PERCENTAGE": ""}
LEGACY_ROLES = ("scheduler", "legacy-analyzers")
ALL_NEW_WEEK = 5  # the plan's week with every tenant on the new path and legacy still running
MAX_WORKERS = 16


@dataclass(frozen=True)
class PathSetup:
    path: str
    flags: dict[str, str]
    roles: tuple[str, ...]  # empty for the floor
    settings: dict[str, str]

    @property
    def legacy_poll_s(self) -> float:
        return float(self.settings["LEGACY_POLL_INTERVAL_S"])


def shortened_settings() -> dict[str, str]:
    return dict(LOAD_PROFILES["smoke"].shortened_settings)


def path_setup(path: str, week: int, tenant_ids: Sequence[str], workers: int) -> PathSetup:
    check_choice(path, week, workers)
    scenario = WEEKS[week]
    if path == "legacy":
        return PathSetup(path, dict(LEGACY_FLAGS), scenario.roles, shortened_settings())
    if path == "mix":
        return PathSetup(path, scenario.flags(tenant_ids), scenario.roles, shortened_settings())
    flags = WEEKS[ALL_NEW_WEEK].flags(tenant_ids)
    return PathSetup(path, flags, () if path == "floor" else scenario.roles, shortened_settings())


def check_choice(path: str, week: int, workers: int) -> None:
    """One-line errors for a PATH, WEEK and WORKERS that do not go together."""
    if path not in CAPACITY_PATHS:
        raise UserError(f"PATH={path!r} is not a capacity path; allowed: {', '.join(CAPACITY_PATHS)}")
    if week not in WEEKS:
        raise UserError(f"WEEK={week} is not a rollout week; allowed: {', '.join(map(str, WEEKS))}")
    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"WORKERS={workers} is not allowed; use 1 to {MAX_WORKERS} BullMQ worker processes")
    if path == "legacy" and not set(LEGACY_ROLES) <= set(WEEKS[week].roles):
        raise UserError(f"PATH=legacy needs the legacy scheduler and analyzers, which week {week} does not start; "
                        "use WEEK=1 to 5")
    if path == "legacy" and workers != 1:
        raise UserError(f"WORKERS={workers} with PATH=legacy: legacy runs no BullMQ job; use WORKERS=1")
