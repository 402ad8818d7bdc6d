"""`remeasure`: a stored release of another machine measured again here from its own commit
(a real git worktree of this repository; the release's own loadtest is a fake that writes
runs, so no server is needed)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rollout_bench.cli import main
from rollout_bench.collect.context import machine
from rollout_bench.compare.figures import latest_release_of_context
from rollout_bench.compare.releases import load
from rollout_bench.compare.remeasure import Wanted, latest_release, measured_here, release_commit, remeasure
from rollout_bench.errors import UserError
from rollout_bench.paths import project_root
from rollout_bench.results.store import releases, run_dir, store_baseline, write_json, write_samples

HEAD = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True,
                      check=True).stdout.strip()
WANTED = Wanted(5, "smoke", "embedded")
ELSEWHERE = {"hostname": "other", "cpus": 2, "cpu_model": "Some Other CPU", "python": "3.11.7"}


def _run(root: Path, run_id: str, *, machine_info: dict[str, Any], sha: str = HEAD, foreign: float = 1.0) -> Path:
    folder = run_dir(run_id, root)
    write_json(folder / "summary.json", {
        "run_id": run_id, "started_at": run_id, "week": 5, "profile": "smoke", "stack": "embedded", "git_sha": sha,
        "machine": machine_info, "servers": {"postgres": "18.6", "redis": "6.2.14", "nats": "2.15.1"},
        "cpu": {"foreign": {"samples": 90, "mean": foreign, "p95": foreign}, "disturbed": foreign > 15}})
    rng = random.Random(run_id)
    write_samples(folder, {"job_latency_ms": {"unified": [rng.lognormvariate(2.5, 0.4) for _ in range(100)]}})
    return folder


@pytest.fixture()
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    runs = [_run(tmp_path, f"2026010{n}T000000Z-aaaaa{n}", machine_info=ELSEWHERE) for n in range(3)]
    store_baseline(runs, "1.0.0", tmp_path)
    return tmp_path


def _fake_measure(foreign: float = 1.0) -> Any:
    seen: dict[str, Any] = {}

    def measure(checkout: Path, wanted: Wanted, runs: int, results: Path) -> None:
        seen["checkout_head"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True,
                                               text=True, check=True).stdout.strip()
        seen["checkout"] = checkout
        for n in range(runs):
            _run(results, f"2026030{n}T000000Z-bbbbb{n}", machine_info=machine(), foreign=foreign)

    measure.seen = seen  # type: ignore[attr-defined]
    return measure


def _worktrees() -> str:
    return subprocess.run(["git", "worktree", "list"], cwd=project_root(), capture_output=True, text=True,
                          check=True).stdout


def test_a_release_of_another_machine_is_measured_here_from_its_commit(results: Path) -> None:
    assert measured_here("1.0.0", WANTED) is None
    stored = latest_release(WANTED)
    assert stored is not None and stored.name == "1.0.0"
    measure = _fake_measure()
    target = remeasure(stored, WANTED, 2, measure, progress=lambda _: None)
    assert measure.seen["checkout_head"] == HEAD  # the release's own commit, checked out apart
    assert str(measure.seen["checkout"]) not in _worktrees()  # and removed afterwards
    assert target.name.startswith("1.0.0@") and len(load(target).summaries) == 2
    here = measured_here("1.0.0", WANTED)
    assert here is not None and here.name == target.name
    found = latest_release_of_context({**load(target).summaries[0]})
    assert found is not None and found.name == target.name
    assert latest_release(WANTED).name == "1.0.0"  # a copy is never "the latest release"


def test_a_copy_stands_right_after_its_original_whenever_it_was_measured(results: Path) -> None:
    later = [_run(results, f"2026020{n}T000000Z-eeeee{n}", machine_info=ELSEWHERE) for n in range(2)]
    store_baseline(later, "1.1.0", results)
    stored = load(results / "releases" / "1.0.0")
    copy = remeasure(stored, WANTED, 2, _fake_measure(), progress=lambda _: None)  # runs dated after 1.1.0's
    assert [d.name for d in releases()] == ["1.0.0", copy.name, "1.1.0"]


def test_disturbed_remeasured_runs_are_refused(results: Path) -> None:
    stored = latest_release(WANTED)
    assert stored is not None
    with pytest.raises(UserError, match="busy with other work"):
        remeasure(stored, WANTED, 2, _fake_measure(foreign=60.0), progress=lambda _: None)
    assert measured_here("1.0.0", WANTED) is None


def test_a_release_of_a_dirty_tree_cannot_be_measured_again(tmp_path: Path) -> None:
    runs = [_run(tmp_path, f"2026010{n}T000000Z-ccccc{n}", machine_info=ELSEWHERE, sha=f"{HEAD}-dirty")
            for n in range(2)]
    stored = load(store_baseline(runs, "dirty", tmp_path))
    with pytest.raises(UserError, match="not a clean commit"):
        release_commit(stored)


def test_if_missing_does_nothing_when_the_latest_release_was_measured_here(
        results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [_run(results, f"2026040{n}T000000Z-ddddd{n}", machine_info=machine()) for n in range(3)]
    store_baseline(runs, "1.1.0", results)
    assert main(["remeasure", "--if-missing"]) == 0
    assert "release 1.1.0 was measured on this machine" in capsys.readouterr().out


def test_if_missing_measures_the_latest_release_when_only_an_older_one_was_measured_here(
        results: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = [_run(results, f"2025120{n}T000000Z-fffff{n}", machine_info=machine()) for n in range(2)]
    store_baseline(here, "0.9.0", results)  # older than 1.0.0, of this machine
    called: list[str] = []
    monkeypatch.setattr("rollout_bench.compare.remeasure.remeasure",
                        lambda stored, wanted, runs: called.append(stored.name) or results)
    assert main(["remeasure", "--if-missing"]) == 0
    assert called == ["1.0.0"]
