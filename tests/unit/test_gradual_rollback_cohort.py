"""The gradual-rollback drill's cohort rules: lowering the percentage removes exactly the
buckets in [new, old), a list removes everyone not listed, and the switch time."""

from __future__ import annotations

from msp_pipeline.migration import TenantMigration, bucket_of
from rollout_bench.drills import cohort
from rollout_bench.drills.gradual_evidence import spread_tenants
from rollout_bench.tenants.generator import tenant_id_for

IDS = [tenant_id_for("small", 7, i) for i in range(0, 400, 7)]


def _routing(**env: str) -> TenantMigration:
    return TenantMigration.from_env({"USE_BULLMQ": "true", "USE_UNIFIED_ANALYZER": "true", **env})


def test_lowering_the_percentage_removes_exactly_the_buckets_between() -> None:
    before, after = _routing(MIGRATION_PERCENTAGE="50"), _routing(MIGRATION_PERCENTAGE="25")
    left = cohort.new_path_cohort(before, IDS) - cohort.new_path_cohort(after, IDS)
    assert left == {t for t in IDS if 25 <= bucket_of(t) < 50}
    assert left and cohort.expected_leavers(before, after, IDS) == left
    assert not cohort.new_path_cohort(after, IDS) - cohort.new_path_cohort(before, IDS)


def test_a_list_removes_every_tenant_not_listed() -> None:
    before = _routing(MIGRATION_PERCENTAGE="25")
    kept = sorted(cohort.new_path_cohort(before, IDS))[:2]
    after = _routing(MIGRATION_PERCENTAGE="25", BULLMQ_TENANTS=",".join(kept), UNIFIED_ANALYZER_TENANTS=",".join(kept))
    assert cohort.new_path_cohort(after, IDS) == set(kept)
    assert cohort.expected_leavers(before, after, IDS) == cohort.new_path_cohort(before, IDS) - set(kept)


def test_observed_cohort_needs_every_job_and_analysis_on_the_new_path() -> None:
    runs = [("s1:identities:0", "a", "unified", 10.0), ("s2:identities:0", "b", "unified", 10.0),
            ("s3:identities:0", "b", "legacy", 11.0), ("s0:identities:0", "c", "legacy", 1.0)]
    enqueued = {"s1:identities:0": 5.0, "s2:identities:0": 5.0, "s3:identities:0": 6.0, "s0:identities:0": 1.0}
    seen = cohort.observe(runs, enqueued, 5.0, [("a", "s1", "legacy", 12.0)], {"s1", "s2", "s3"})
    assert seen.on_new_path() == set()  # a: analysed on legacy; b: one job on legacy; c: before the switch
    assert seen.mixed() == {"a": ["legacy", "unified"], "b": ["legacy", "unified"]}


def test_what_happened_after_the_next_restart_belongs_to_the_next_step() -> None:
    runs = [("s1:identities:0", "a", "unified", 10.0), ("s2:identities:0", "a", "legacy", 21.0)]
    enqueued = {"s1:identities:0": 6.0, "s2:identities:0": 19.0}
    seen = cohort.observe(runs, enqueued, 5.0, [("a", "s1", "unified", 11.0), ("a", "s2", "legacy", 22.0)],
                          {"s1", "s2"}, until=20.0)
    assert seen.on_new_path() == {"a"} and not seen.mixed()


def test_switch_time_is_the_later_of_last_old_start_and_first_new_start() -> None:
    runs = [("k1", "a", "unified", 101.0), ("k2", "a", "legacy", 103.5), ("k3", "b", "legacy", 102.0),
            ("k4", "z", "unified", 150.0), ("k0", "a", "unified", 99.0)]
    assert cohort.switch_time_s(runs, {"a": "legacy", "b": "legacy"}, 100.0) == 3.5
    assert cohort.switch_time_s(runs, {"a": "legacy", "c": "legacy"}, 100.0) is None


def test_spread_tenants_cover_the_three_bucket_bands() -> None:
    buckets = [bucket_of(t.tenant_id) for t in spread_tenants(low=2, middle=1, high=1)]
    assert [b < 25 for b in buckets] == [True, True, False, False]
    assert 25 <= buckets[2] < 50 <= buckets[3]
