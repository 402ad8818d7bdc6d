"""Unit tests of the new path's pure parts (no servers)."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from msp_pipeline.contract.jobs import (
    ATTEMPTS,
    BACKOFF_DELAY_MS,
    REMOVE_ON_COMPLETE,
    REMOVE_ON_FAIL,
    SyncJobData,
)
from msp_pipeline.metrics import Metrics
from msp_pipeline.model import Finding
from msp_pipeline.unified.alerts import COVERED_ALERT_TYPES, alert_rows, state_rows
from msp_pipeline.unified.queue import PipelineQueue, repeat_options, scheduler_id
from msp_pipeline.unified.redis_health import RedisMonitor


@pytest.mark.parametrize(("rate", "expected"), [
    (60, {"pattern": "0 * * * *"}),
    (1, {"pattern": "* * * * *"}),
    (15, {"pattern": "*/15 * * * *"}),
    (120, {"pattern": "0 */2 * * *"}),
    (1440, {"pattern": "0 0 * * *"}),
    (45, {"every": 45 * 60_000}),
    (90, {"every": 90 * 60_000}),
])
def test_repeat_options_from_rate_minutes(rate: int, expected: dict[str, object]) -> None:
    assert repeat_options(rate) == expected


@pytest.mark.parametrize("bad", [0, -5, 1.5, "60", True, None])
def test_bad_rate_minutes_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match=r"rate_minutes .* is not allowed; use a whole number of minutes > 0"):
        repeat_options(bad)


def test_job_options_as_domain_and_test_backoff_override() -> None:
    data = SyncJobData("t1", "ds1", "identities", "s1", batchNumber=2, priority=15)
    queue = PipelineQueue("redis://127.0.0.1:1/15")  # no connection is made until a command runs
    options = queue.job_options(data, delay_ms=250)
    assert options["jobId"] == "s1:identities:2" and options["attempts"] == ATTEMPTS == 3
    assert options["backoff"] == {"type": "exponential", "delay": BACKOFF_DELAY_MS} and BACKOFF_DELAY_MS == 5_000
    assert options["removeOnComplete"] == REMOVE_ON_COMPLETE and options["removeOnFail"] == REMOVE_ON_FAIL
    assert options["delay"] == 250
    quick = PipelineQueue("redis://127.0.0.1:1/15", backoff_delay_ms=20).job_options(data)
    assert quick["backoff"] == {"type": "exponential", "delay": 20}
    # next page: legacy priority +10 -> a lower BullMQ number, so it runs first
    assert queue.job_options(data.next_page("c"))["priority"] < options["priority"]
    assert scheduler_id("ds1", "roles") == "sync:ds1:roles"


def test_alert_and_state_rows() -> None:
    ids = {("identities", "a"): 1, ("licenses", "E5"): 2}
    findings = [Finding("identities", "a", "mfa_not_enforced", "high"),
                Finding("identities", "a", "license_waste", "low", subject="E3"),
                Finding("licenses", "E5", "license_overuse", "high")]
    rows = alert_rows(findings, ids)
    assert [(r["entity_id"], r["alert_type"], r["subject"]) for r in rows] == [
        (1, "mfa_not_enforced", ""), (1, "license_waste", "E3"), (2, "license_overuse", "")]
    assert state_rows(findings, ids) == [{"entity_id": 1, "state": "critical"}, {"entity_id": 2, "state": "critical"}]
    assert state_rows(findings[1:2], ids) == [{"entity_id": 1, "state": "low"}]
    assert set(COVERED_ALERT_TYPES) == {"mfa_not_enforced", "mfa_partial_enforced", "policy_gap", "license_waste",
                                        "license_overuse", "stale_user"}
    with pytest.raises(KeyError, match="not loaded"):
        alert_rows([Finding("identities", "ghost", "stale_user", "low")], ids)


class FlakyQueue:
    def __init__(self) -> None:
        self.fail = False

    async def counts(self) -> dict[str, int]:
        if self.fail:
            raise RedisConnectionError("Connection refused")
        return {"waiting": 7, "active": 1, "delayed": 0, "completed": 0, "failed": 0}


def test_redis_monitor_tracks_up_and_depth() -> None:
    metrics, queue = Metrics(), FlakyQueue()
    monitor = RedisMonitor(queue, metrics, "unified", interval_s=0.05)

    def value(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    assert asyncio.run(monitor.check()) is True
    assert value("pipeline_redis_up") == 1 and value("pipeline_queue_depth", path="unified") == 7
    queue.fail = True
    assert asyncio.run(monitor.check()) is False
    assert value("pipeline_redis_up") == 0
    assert value("pipeline_errors_total", module="RedisMonitor", error_type="redis_down") == 1
    queue.fail = False
    assert asyncio.run(monitor.check()) is True and value("pipeline_redis_up") == 1


def test_comparison_ignore_parsing() -> None:
    from msp_pipeline.contract.settings import ConfigError
    from msp_pipeline.unified.comparing import ignored_quirks

    assert ignored_quirks({}) == {"policy_gap_never_raised", "license_waste_reads_stale_tag"}
    assert ignored_quirks({"COMPARISON_IGNORE": "none"}) == frozenset()
    assert ignored_quirks({"COMPARISON_IGNORE": " mfa_resolve_bug , "}) == {"mfa_resolve_bug"}
    with pytest.raises(ConfigError, match=r"COMPARISON_IGNORE='mfa,typo' is not allowed: 'mfa' is not a quirk"):
        ignored_quirks({"COMPARISON_IGNORE": "mfa,typo"})


def test_settle_window_from_env() -> None:
    from msp_pipeline.contract.settings import ConfigError, Settings
    from msp_pipeline.migration import TenantMigration
    from msp_pipeline.unified.service import UnifiedAnalyzerService

    settings = Settings("postgresql://x", "redis://x", "nats://x")
    assert UnifiedAnalyzerService(settings, Metrics(), TenantMigration(), env={}).settle_s == 5.0
    assert UnifiedAnalyzerService(settings, Metrics(), TenantMigration(), env={"UNIFIED_SETTLE_S": "0.5"}).settle_s == 0.5
    with pytest.raises(ConfigError, match="UNIFIED_SETTLE_S='soon' is not allowed"):
        UnifiedAnalyzerService(settings, Metrics(), TenantMigration(), env={"UNIFIED_SETTLE_S": "soon"})
