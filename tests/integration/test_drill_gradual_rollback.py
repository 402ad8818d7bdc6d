"""The gradual-rollback drill end to end on its own embedded stack (shortened: less load per
step): 50 -> 25 -> list of two -> 25 -> 50 under load; the cohort follows the bucket hash,
nothing is lost, the jobs left on BullMQ are handed over, the MFA resolve bug is reported by
name and the new path clears it when the tenant comes back."""

from __future__ import annotations

from pathlib import Path

import pytest

from msp_pipeline.migration import bucket_of
from rollout_bench.drills import gradual
from rollout_bench.drills.quirk_attribution import MFA_RESOLVE_BUG, UNKNOWN


def test_gradual_rollback_drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradual, "STEP_LOAD_S", 5.0)
    result = gradual.gradual_rollback(tmp_path, lambda _message: None)
    failed = [(c.name, c.observed, c.target) for c in result.checks if not c.passed]
    assert not failed, failed
    figures = result.figures
    first, second, back_first, back_second = figures["steps"]
    assert {t for t, m in first["moved"].items() if m["to"] == "legacy"} == {
        t for t, b in figures["tenants"].items() if 25 <= b < 50}
    assert all(m["bucket"] == bucket_of(t) for step in figures["steps"] for t, m in step["moved"].items())
    assert len(second["cohort_after"]) == 2 and len(second["moved"]) == 1
    assert back_first["moved"].keys() == second["moved"].keys()
    assert back_second["moved"].keys() == first["moved"].keys()
    assert figures["lost"] == 0 and figures["hand_overs"]["total"] >= figures["hand_overs"]["queued_while_no_worker"] > 0
    assert figures["legacy_alert_differences_by_quirk"].get(MFA_RESOLVE_BUG, 0) >= 1
    assert UNKNOWN not in figures["legacy_alert_differences_by_quirk"]
    assert all(step["switch_s"] is not None for step in figures["steps"])
