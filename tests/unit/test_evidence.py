"""The evidence the gates stand on: syncs analysed once, the plan replaying mutations,
error lines in the logs, clock offsets, a sampler that cannot reach its servers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from rollout_bench.collect.clock import ClockOffset, check_offset
from rollout_bench.collect.logs import log_figures
from rollout_bench.collect.records import AnalysisRow
from rollout_bench.collect.syncs import sync_counts
from rollout_bench.errors import InfrastructureError
from rollout_bench.load.sampler import QueueDepthSampler
from rollout_bench.tenants import generate_tenants
from rollout_bench.tenants.replay import expected_after


def _row(path: str, analyzer: str, tenant: str, sync: str) -> AnalysisRow:
    return AnalysisRow(path, analyzer, tenant, sync, 6, 10, 1, 0.1, 0.01, None)


def test_syncs_never_analysed_or_analysed_twice_are_counted() -> None:
    jobs = [{"job_key": f"s{i}:identities:0", "path": "unified", "tenant_id": "t1"} for i in range(3)]
    jobs += [{"job_key": "s9:groups:0", "path": "legacy", "tenant_id": "t2"}]
    rows = [_row("unified", "unified", "t1", "s0"), _row("unified", "unified", "t1", "s1"),
            _row("unified", "unified", "t1", "s1")]
    rows += [_row("legacy", a, "t2", "s9") for a in ("mfa", "policy", "license", "stale")]
    counts = sync_counts(jobs, rows)
    assert counts["unified"] | {"examples": []} == {"syncs": 3, "analysed_once": 1, "not_analysed_once": 2,
                                                    "never": 1, "more_than_once": 1, "examples": []}
    assert counts["legacy"]["analysed_once"] == 1 and counts["legacy"]["not_analysed_once"] == 0


def test_the_plan_follows_each_kind_of_mutation() -> None:
    tenant = next(t for t in generate_tenants("small", 6, 1) if not t.security_defaults)
    candidates = tenant.mutation_candidates()
    healthy = next(p for p in tenant.identities if p.external_id in candidates["healthy"] and p.licenses)
    stale = next(p for p in tenant.identities if p.external_id in candidates["stale"])

    def findings(mutations: list[dict]) -> set[tuple[str, str, str]]:
        return {(f.entity_external_id, f.alert_type, f.severity) for f in expected_after(tenant, mutations)}

    before = findings([])
    assert findings([]) == {(f.entity_external_id, f.alert_type, f.severity) for f in tenant.expected_findings}
    disabled = findings([{"tenant_id": tenant.tenant_id, "kind": "disable_user", "user": healthy.external_id}])
    assert disabled - before == {(healthy.external_id, "license_waste", "medium")}
    back = findings([{"tenant_id": tenant.tenant_id, "kind": k, "user": healthy.external_id}
                     for k in ("disable_user", "enable_user")])
    assert back == before
    excluded = findings([{"tenant_id": tenant.tenant_id, "kind": "policy_exclude_user", "user": healthy.external_id}])
    assert excluded - before == {(healthy.external_id, "mfa_not_enforced", "high")}
    signed_in = findings([{"tenant_id": tenant.tenant_id, "kind": "sign_in", "user": stale.external_id}])
    assert (stale.external_id, "stale_user") not in {(e, a) for e, a, _ in signed_in}
    assert any(e == stale.external_id and a == "stale_user" for e, a, _ in before)
    other_tenant = findings([{"tenant_id": "someone-else", "kind": "disable_user", "user": healthy.external_id}])
    assert other_tenant == before
    with pytest.raises(ValueError, match="names no identity"):
        expected_after(tenant, [{"tenant_id": tenant.tenant_id, "kind": "sign_in", "user": "nobody"}])


def test_mutation_candidates_are_only_users_whose_change_the_plan_models() -> None:
    for tenant in generate_tenants("small", 12, 1):
        it_admins = set(next(g for g in tenant.payloads["groups"] if g["displayName"] == "IT Admins")["members"])
        healthy = set(tenant.mutation_candidates()["healthy"])
        assert healthy and not healthy & it_admins  # still MFA-covered when excluded from all users


def test_error_lines_are_found_in_the_pipeline_logs(tmp_path: Path) -> None:
    (tmp_path / "pipeline-worker-0.log").write_text("\n".join([
        json.dumps({"level": "info", "message": "ok"}), json.dumps({"level": "error", "message": "boom"}),
        "Traceback (most recent call last):", ""]))
    figures = log_figures(tmp_path)
    assert figures["lines"] == 3 and figures["error_lines"] == 2 and "boom" in figures["examples"][0]


def test_clocks_apart_are_refused_beyond_the_measurement_uncertainty() -> None:
    check_offset(ClockOffset(40.0, 1.0), "at the start")
    check_offset(ClockOffset(60.0, 20.0), "at the start")  # within its own uncertainty
    with pytest.raises(InfrastructureError, match=r"\+120 ms .*allowed 50 ms"):
        check_offset(ClockOffset(120.0, 1.0), "at the end")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_sampler_that_reaches_no_server_counts_every_failure() -> None:
    port = _closed_port()
    sampler = QueueDepthSampler(f"postgresql://postgres@127.0.0.1:{port}/x?connect_timeout=1",
                                f"redis://127.0.0.1:{port}/0", "lt-x", interval_s=0.05)
    with sampler:
        import time
        deadline = time.monotonic() + 20
        while sampler.redis_samples < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    evidence = sampler.evidence()
    assert evidence["redis_samples"] >= 3 and evidence["redis_failures"] == evidence["redis_samples"]
    assert evidence["database_failures"] >= 3 and not evidence["sampler_error"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_sampler_gives_no_evidence() -> None:
    sampler = QueueDepthSampler("postgresql://x", "not-a-url", "lt-x")
    with sampler:
        sampler._thread.join(timeout=10)  # type: ignore[union-attr]
    assert sampler.error and sampler.evidence()["redis_failures"] is None
    assert sampler.evidence()["redis_samples"] == 0


def test_legacy_is_judged_against_its_poll_baseline() -> None:
    from rollout_bench.collect.legacy_baseline import legacy_baseline

    waits = [i * 600.0 for i in range(101)]  # 0 .. 60 s, uniform: mean 30 s
    figures = legacy_baseline(waits, [0.5] * 50, 60.0)
    assert figures["mean_within_10pct"] and figures["expected_mean_s"] == 30.0
    assert figures["p99_within_limit"] and figures["p99_limit_s"] == 60.5
    saturated = legacy_baseline([500_000.0] * 10, [0.5], 60.0)
    assert not saturated["mean_within_10pct"] and not saturated["p99_within_limit"]
    assert legacy_baseline([], [], 60.0)["jobs"] == 0
