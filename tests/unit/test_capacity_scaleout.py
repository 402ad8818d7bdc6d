"""Scale-out with a fake search: one search per worker count, in order; scaleout.json and
scaleout.png written; a count without a knee reported with its reason and left out of the
fit; fewer than three knees give no fit; bad worker lists are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rollout_bench.capacity.result import CapacityResult
from rollout_bench.capacity.scaleout import observation_of, read_scaleout, run_scaleout
from rollout_bench.capacity.stored import resolve_capacity
from rollout_bench.capacity.usl import fit_usl, usl
from rollout_bench.errors import UserError
from rollout_bench.results.store import run_dir, store_baseline
from tests.unit.test_capacity_compare import result

JOBS_PER_SYNC = 5.0
LAMBDA, SIGMA, KAPPA = 60.0, 0.1, 0.05  # jobs/s of one worker; a peak at sqrt(0.9 / 0.05) = 4.2 workers


class FakeSearch:
    """Knees on a known USL curve, each bracketed 8 % wide around the truth, as a bisection
    leaves it; counts in `fail` find no knee (their first step already failed)."""

    def __init__(self, fail: tuple[int, ...] = ()) -> None:
        self.fail = fail
        self.calls: list[int] = []

    def __call__(self, workers: int) -> CapacityResult:
        self.calls.append(workers)
        run_id = f"20260101T00000{len(self.calls)}Z-scale{workers}"
        if workers in self.fail:
            return result(None, 2.0, workers=workers, run_id=run_id)
        syncs = float(usl(np.asarray(float(workers)), LAMBDA, SIGMA, KAPPA)) / JOBS_PER_SYNC
        return result(syncs / 1.04, syncs * 1.04, workers=workers, run_id=run_id, jobs_per_sync=JOBS_PER_SYNC)


def test_one_search_per_count_in_order_then_the_fit_and_both_files(tmp_path: Path) -> None:
    search = FakeSearch()
    scaleout = run_scaleout([1, 2, 4, 8], search, directory=tmp_path, draws=40)
    assert search.calls == [1, 2, 4, 8]
    fit = scaleout.fit
    assert fit.fitted and fit.lambda_jobs_per_s == pytest.approx(LAMBDA, rel=1e-3)
    assert fit.sigma == pytest.approx(SIGMA, abs=1e-3) and fit.kappa == pytest.approx(KAPPA, abs=1e-4)
    assert fit.peak_workers == pytest.approx(np.sqrt(0.9 / 0.05), rel=1e-2)
    assert "on this 2-core box the second worker adds" in fit.sentence
    document = json.loads((tmp_path / "scaleout.json").read_text())
    assert [c["workers"] for c in document["counts"]] == [1, 2, 4, 8]
    first = document["counts"][0]
    assert first["knee_syncs_per_s"] == pytest.approx(LAMBDA / JOBS_PER_SYNC / 1.04)
    assert first["bracket_syncs_per_s"][1] == pytest.approx(LAMBDA / JOBS_PER_SYNC * 1.04)
    assert document["fit"]["peak_workers"] == pytest.approx(fit.peak_workers)
    assert (tmp_path / "scaleout.png").stat().st_size > 10_000
    assert read_scaleout(tmp_path / "scaleout.json") == scaleout


def test_a_count_without_knee_is_reported_and_left_out_of_the_fit(tmp_path: Path) -> None:
    scaleout = run_scaleout([1, 2, 4, 8], FakeSearch(fail=(8,)), directory=tmp_path, draws=0)
    left_out = [c for c in scaleout.counts if c.observation is None]
    assert [c.workers for c in left_out] == [8]
    assert left_out[0].reason == ("no knee: no sustainable step: capacity below 2.0 syncs/s "
                                  "(latency: p99 upper bound 1830 ms (n=1210))")
    assert [o.workers for o in scaleout.fit.observations] == [1, 2, 4]
    expected = fit_usl([c.observation for c in scaleout.counts if c.observation], cpus=2, draws=0)
    assert scaleout.fit == expected
    document = json.loads((tmp_path / "scaleout.json").read_text())
    assert document["counts"][3]["included"] is False and document["counts"][3]["reason"].startswith("no knee")


def test_fewer_than_three_knees_give_no_fit_but_still_the_files(tmp_path: Path) -> None:
    scaleout = run_scaleout([1, 2, 4], FakeSearch(fail=(4,)), directory=tmp_path)
    assert not scaleout.fit.fitted
    assert scaleout.fit.reason == "a USL fit needs knees at 3 or more distinct worker counts; have N=1, N=2"
    assert (tmp_path / "scaleout.json").is_file() and (tmp_path / "scaleout.png").is_file()


def test_a_scale_out_is_stored_with_a_release_and_read_back(tmp_path: Path) -> None:
    run = run_dir("20260101T000000Z-scaleo", tmp_path)
    run_scaleout([1, 2, 4], FakeSearch(), directory=run, draws=0)
    store_baseline([run], "1.0.0", root=tmp_path)
    name, results = resolve_capacity("1.0.0", tmp_path)
    assert name == "1.0.0" and [r.workers for r in results] == [1, 2, 4]


def test_the_default_folder_is_a_new_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    scaleout = run_scaleout([1, 2, 4], FakeSearch(), draws=0)
    (folder,) = (tmp_path / "runs").iterdir()
    assert scaleout.files["json"] == str(folder / "scaleout.json") and (folder / "scaleout.png").is_file()


@pytest.mark.parametrize(("workers", "message"), [
    ([], "no worker count given"),
    ([1, 0, 4], "worker count 0 is not allowed"),
    ([1, 2.5, 4], "worker count 2.5 is not allowed"),
    ([1, 2, 2], "worker counts [2] are given twice"),
])
def test_bad_worker_counts_are_one_line_errors_before_any_search(workers: list[int], message: str,
                                                                 tmp_path: Path) -> None:
    search = FakeSearch()
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_scaleout(workers, search, directory=tmp_path)
    assert search.calls == []


def test_a_search_that_returns_another_count_is_a_bug_not_a_measurement(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="asked for 2 worker"):
        run_scaleout([1, 2, 4], lambda workers: result(10.0, 11.0, workers=1), directory=tmp_path)


def test_a_knee_whose_repeats_failed_enters_the_fit_with_its_widened_interval() -> None:
    observation, reason = observation_of(result(12.0, 13.2, repeats=(1, 2), jobs_per_sync=5.0))
    assert reason == "" and observation is not None
    assert (observation.knee_jobs_per_s, observation.ceiling_jobs_per_s) == (30.0, 66.0)  # 6.0 .. 13.2 syncs/s


def test_make_capacity_with_several_worker_counts_runs_the_scale_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from rollout_bench.capacity.run import CapacityRun
    from rollout_bench.cli import main

    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    search = FakeSearch()
    monkeypatch.setattr(CapacityRun, "run", lambda self: search(self.options.workers))
    assert main(["capacity", "--workers", "1,2,4", "--stack", "embedded"]) == 0
    assert search.calls == [1, 2, 4]
    out = capsys.readouterr().out
    assert "USL: " in out and "scaleout.json" in out and "4 worker(s): " in out
    assert main(["capacity", "--workers", "1,two"]) == 2
    assert "WORKERS='1,two' is not allowed" in capsys.readouterr().err
