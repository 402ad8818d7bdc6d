"""The standard profile's headroom gate: the knee of a capacity search of this commit, week
and machine over the production rate; other profiles n/a; no search -> INCONCLUSIVE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollout_bench.capacity.headroom import headroom_figures
from rollout_bench.capacity.result import Check, CapacityResult, Knee, StepResult
from rollout_bench.judge.gates import evaluate_all, load_gates
from rollout_bench.paths import project_root
from rollout_bench.results.store import run_dir, write_json
from rollout_bench.results.summary import describes

MACHINE = {"hostname": "vm", "cpus": 2, "cpu_model": "AMD EPYC"}
SUMMARY: dict[str, Any] = {"git_sha": "a" * 40, "week": 4, "profile": "standard", "machine": MACHINE}
PRODUCTION = {"syncs_per_s": 0.05556, "jobs_per_s": 0.27778}


def _search(root: Path, run_id: str, knee: float, **changes: Any) -> None:
    step = StepResult(knee, knee * 5, 30.0, knee * 5, {}, {}, {}, {}, [Check("latency", True, "ok", 400)])
    result = CapacityResult(run_id=run_id, path=changes.pop("path", "mix"), week=changes.pop("week", 4), workers=1,
                            arrivals="poisson", context={"git_sha": changes.pop("sha", "a" * 40), "machine": MACHINE},
                            criteria={}, steps=[step, step], knee=Knee(knee, knee * 5, (knee, knee * 1.1)),
                            bottleneck={}, production=PRODUCTION, started_at=run_id)
    write_json(run_dir(run_id, root) / "capacity.json", result.to_dict())


def _gate(summary: dict[str, Any]) -> Any:
    gates = [g for g in load_gates(project_root() / "ops" / "gates.toml", describes) if g.name.startswith("headroom")]
    [result] = evaluate_all(gates, summary, week=summary["week"])
    return result


def test_a_search_of_this_commit_decides_the_gate(tmp_path: Path) -> None:
    _search(tmp_path, "20260101T000000Z-aaaaaa", knee=0.4)  # 7x production: too little
    _search(tmp_path, "20260102T000000Z-bbbbbb", knee=0.2, sha="b" * 40)  # another commit: not evidence
    summary = {**SUMMARY, "capacity": headroom_figures(SUMMARY, judged=True, root=tmp_path)}
    assert summary["capacity"]["run_id"] == "20260101T000000Z-aaaaaa"
    assert summary["capacity"]["headroom"] == pytest.approx(0.4 / 0.05556)
    assert _gate(summary).result == "fail"
    _search(tmp_path, "20260103T000000Z-cccccc", knee=1.2)  # the latest search: 21.6x
    summary = {**SUMMARY, "capacity": headroom_figures(SUMMARY, judged=True, root=tmp_path)}
    assert _gate(summary).result == "pass" and summary["capacity"]["steps"] == 2


def test_no_search_of_this_commit_is_inconclusive_and_says_how(tmp_path: Path) -> None:
    _search(tmp_path, "20260101T000000Z-aaaaaa", knee=1.2, week=5)
    _search(tmp_path, "20260102T000000Z-bbbbbb", knee=1.2, path="legacy")
    figures = headroom_figures(SUMMARY, judged=True, root=tmp_path)
    assert figures["headroom"] is None and "make capacity WEEK=4 PATH=mix" in figures["reason"]
    assert _gate({**SUMMARY, "capacity": figures}).result == "inconclusive"
    dirty = {**SUMMARY, "git_sha": "a" * 40 + "-dirty"}
    _search(tmp_path, "20260103T000000Z-cccccc", knee=1.2)
    assert headroom_figures(dirty, judged=True, root=tmp_path)["headroom"] is None


def test_other_profiles_list_the_gate_as_not_applicable(tmp_path: Path) -> None:
    summary = {**SUMMARY, "profile": "smoke"}
    summary["capacity"] = headroom_figures(summary, judged=False, root=tmp_path)
    result = _gate(summary)
    assert result.result == "n/a" and "judged by the standard profile" in result.note


def test_the_report_shows_the_search_the_gate_stands_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_bench.report.capacity import capacity_section

    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    _search(tmp_path, "20260103T000000Z-cccccc", knee=1.2)
    summary = {**SUMMARY, "capacity": headroom_figures(SUMMARY, judged=True, root=tmp_path)}
    text, plots = capacity_section(tmp_path, summary)
    assert "knee 1.2 syncs/s" in text and "21.6x" in text
    none_text, none_plots = capacity_section(tmp_path, {**SUMMARY, "capacity": headroom_figures(SUMMARY, False)})
    assert "judged by the standard profile" in none_text and none_plots == []
