"""Tenant routing: flags, precedence, fail-closed, bad values, monotone percentages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msp_pipeline.contract import settings
from msp_pipeline.migration import ConfigError, TenantMigration, bucket_of

TENANTS = [f"tenant-{i}" for i in range(200)]


def routing(**env: str) -> TenantMigration:
    return TenantMigration.from_env(env)


def test_config_error_is_the_settings_one() -> None:
    assert ConfigError is settings.ConfigError
    assert issubclass(ConfigError, ValueError)


def test_defaults_route_everyone_to_legacy() -> None:
    migration = routing()
    assert migration == TenantMigration()
    assert migration.percentage is None and not migration.compare_analyzers
    assert not any(migration.should_use_bullmq(t) or migration.should_use_unified_analyzer(t) for t in TENANTS)


def test_flag_on_without_list_or_percentage_routes_all() -> None:
    migration = routing(USE_BULLMQ="true", USE_UNIFIED_ANALYZER="true", MIGRATION_PERCENTAGE="")
    assert all(migration.should_use_bullmq(t) and migration.should_use_unified_analyzer(t) for t in TENANTS)


def test_explicit_list_wins_over_percentage() -> None:
    migration = routing(USE_BULLMQ="true", BULLMQ_TENANTS=" tenant-1, tenant-2 ,,", MIGRATION_PERCENTAGE="100")
    assert migration.bullmq_tenants == frozenset({"tenant-1", "tenant-2"})
    assert [t for t in TENANTS if migration.should_use_bullmq(t)] == ["tenant-1", "tenant-2"]


def test_percentage_uses_the_bucket() -> None:
    migration = routing(USE_BULLMQ="true", MIGRATION_PERCENTAGE="10")
    assert migration.percentage == 10
    chosen = {t for t in TENANTS if migration.should_use_bullmq(t)}
    assert chosen == {t for t in TENANTS if bucket_of(t) < 10}
    assert 0 < len(chosen) < len(TENANTS)


def test_explicit_zero_means_no_tenant_and_100_means_all() -> None:
    zero = routing(USE_BULLMQ="true", USE_UNIFIED_ANALYZER="true", MIGRATION_PERCENTAGE="0")
    assert not any(zero.should_use_bullmq(t) or zero.should_use_unified_analyzer(t) for t in TENANTS)
    full = routing(USE_BULLMQ="true", MIGRATION_PERCENTAGE="100")
    assert all(full.should_use_bullmq(t) for t in TENANTS)


def test_unified_analyzer_has_its_own_flag_and_list() -> None:
    migration = routing(USE_BULLMQ="true", BULLMQ_TENANTS="tenant-1",
                        USE_UNIFIED_ANALYZER="true", UNIFIED_ANALYZER_TENANTS="tenant-2")
    assert migration.should_use_bullmq("tenant-1") and not migration.should_use_unified_analyzer("tenant-1")
    assert migration.should_use_unified_analyzer("tenant-2") and not migration.should_use_bullmq("tenant-2")
    queue_only = routing(USE_BULLMQ="true")
    assert queue_only.should_use_bullmq("tenant-3") and not queue_only.should_use_unified_analyzer("tenant-3")
    analyzer_only = routing(USE_UNIFIED_ANALYZER="true")
    assert analyzer_only.should_use_unified_analyzer("tenant-3") and not analyzer_only.should_use_bullmq("tenant-3")


@pytest.mark.parametrize("tenant_id", [None, ""])
def test_missing_tenant_id_fails_closed(tenant_id: str | None) -> None:
    migration = routing(USE_BULLMQ="true", USE_UNIFIED_ANALYZER="true")
    assert not migration.should_use_bullmq(tenant_id)
    assert not migration.should_use_unified_analyzer(tenant_id)


@pytest.mark.parametrize(("name", "value", "allowed"), [
    ("MIGRATION_PERCENTAGE", "abc", "0 to 100"),
    ("MIGRATION_PERCENTAGE", "150", "0 to 100"),
    ("MIGRATION_PERCENTAGE", "101", "0 to 100"),
    ("MIGRATION_PERCENTAGE", "-1", "0 to 100"),
    ("MIGRATION_PERCENTAGE", "1.5", "0 to 100"),
    ("MIGRATION_PERCENTAGE", "1_0", "0 to 100"),
    ("MIGRATION_PERCENTAGE", "\u0665", "0 to 100"),  # an Arabic-Indic digit: int() would take it
    ("USE_BULLMQ", "maybe", "true or false"),
    ("USE_UNIFIED_ANALYZER", "enabled", "true or false"),
    ("COMPARE_ANALYZERS", "2", "true or false"),
])
def test_bad_values_name_variable_value_and_allowed(name: str, value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        routing(**{name: value})
    message = str(caught.value)
    assert name in message and repr(value) in message and allowed in message
    assert "\n" not in message


def test_describe_is_json_ready() -> None:
    described = routing(USE_BULLMQ="true", BULLMQ_TENANTS="b,a", USE_UNIFIED_ANALYZER="true",
                        MIGRATION_PERCENTAGE="25", COMPARE_ANALYZERS="yes").describe()
    assert described == {
        "bullmq_enabled": True, "bullmq_tenants": ["a", "b"], "bullmq_mode": "list",
        "unified_enabled": True, "unified_tenants": [], "unified_mode": "percentage",
        "percentage": 25, "compare_analyzers": True,
    }
    assert routing().describe()["bullmq_mode"] == "off"


tenant_ids = st.text(min_size=1, max_size=40)


@given(tenant_id=tenant_ids, low=st.integers(0, 100), high=st.integers(0, 100))
def test_raising_the_percentage_never_removes_a_tenant(tenant_id: str, low: int, high: int) -> None:
    low, high = sorted((low, high))
    before = TenantMigration(bullmq_enabled=True, unified_enabled=True, percentage=low)
    after = TenantMigration(bullmq_enabled=True, unified_enabled=True, percentage=high)
    assert 0 <= TenantMigration.bucket(tenant_id) <= 99
    if before.should_use_bullmq(tenant_id):
        assert after.should_use_bullmq(tenant_id)
    if before.should_use_unified_analyzer(tenant_id):
        assert after.should_use_unified_analyzer(tenant_id)


env_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["true", "false", "TRUE", " yes ", "0", "1", "no", "", "100", "0", "50", " 7 ", "-0"]),
)


@given(use_bullmq=env_values, unified=env_values, compare=env_values, percentage=env_values, tenants=env_values)
def test_flag_parser_gives_a_value_or_config_error(use_bullmq: str, unified: str, compare: str,
                                                  percentage: str, tenants: str) -> None:
    env = {"USE_BULLMQ": use_bullmq, "USE_UNIFIED_ANALYZER": unified, "COMPARE_ANALYZERS": compare,
           "MIGRATION_PERCENTAGE": percentage, "BULLMQ_TENANTS": tenants}
    try:
        migration = TenantMigration.from_env(env)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        assert any(name in str(exc) for name in env)
        return
    assert isinstance(migration.bullmq_enabled, bool)
    assert migration.percentage is None or 0 <= migration.percentage <= 100
    assert all(t and t == t.strip() for t in migration.bullmq_tenants)
