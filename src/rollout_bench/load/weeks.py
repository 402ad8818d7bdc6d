"""One scenario per rollout week, with the refactor plan's flags for that week."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Week 1 declares the known legacy quirks (docs/pipeline.md) as comparison ignore rules: the gate
# asks for a 100 % match outside them, so only an unknown difference holds the rollout.
KNOWN_QUIRKS = "mfa_ignores_policy_state,ignore_exclude_groups,policy_gap_never_raised,license_waste_reads_stale_tag"
ALL_ROLES = ("scheduler", "worker", "legacy-analyzers", "unified-analyzer")
NEW_PATH_ROLES = ("worker", "unified-analyzer")


@dataclass(frozen=True)
class WeekScenario:
    week: int
    title: str
    roles: tuple[str, ...]
    percentage: int | None = None  # MIGRATION_PERCENTAGE; None = unset (all)
    compare: bool = False
    one_test_tenant: bool = False
    proves_legacy_untouched: bool = False

    def flags(self, tenant_ids: Sequence[str]) -> dict[str, str]:
        flags = {"USE_BULLMQ": "true", "USE_UNIFIED_ANALYZER": "true",
                 "COMPARE_ANALYZERS": "true" if self.compare else "false",
                 "BULLMQ_TENANTS": "", "UNIFIED_ANALYZER_TENANTS": "", "MIGRATION_PERCENTAGE": ""}
        if self.compare:
            flags["COMPARISON_IGNORE"] = KNOWN_QUIRKS
        if self.one_test_tenant:
            test_tenant = sorted(tenant_ids)[0]
            flags["BULLMQ_TENANTS"] = flags["UNIFIED_ANALYZER_TENANTS"] = test_tenant
        if self.percentage is not None:
            flags["MIGRATION_PERCENTAGE"] = str(self.percentage)
        return flags


WEEKS: dict[int, WeekScenario] = {
    1: WeekScenario(1, "staging parallel run: both paths, comparison mode on", ALL_ROLES, compare=True),
    2: WeekScenario(2, "one test tenant on the new path", ALL_ROLES, one_test_tenant=True),
    3: WeekScenario(3, "10 % of tenants on the new path", ALL_ROLES, percentage=10),
    4: WeekScenario(4, "50 % of tenants on the new path", ALL_ROLES, percentage=50),
    5: WeekScenario(5, "all tenants on the new path, legacy still running", ALL_ROLES, percentage=100),
    6: WeekScenario(6, "legacy scheduler and analyzers not started", NEW_PATH_ROLES),
    7: WeekScenario(7, "only the new path: prove nothing touches the legacy side", NEW_PATH_ROLES,
                    proves_legacy_untouched=True),
}
