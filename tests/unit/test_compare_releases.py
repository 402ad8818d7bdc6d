"""Releases of several runs, the context check, the CLI (`compare`, `baseline`) and the
verdict's regression figures, on runs written to a scratch results folder."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from rollout_bench.cli import main
from rollout_bench.compare import CALIBRATED_RUNS
from rollout_bench.compare.context import differences, major
from rollout_bench.compare.figures import alert_count_figures, regression_figures
from rollout_bench.compare.statistics import holm, holm_adjusted
from rollout_bench.judge.gates import evaluate, evaluate_all, load_gates
from rollout_bench.load.cpu import DISTURBED_CORE_PERCENT
from rollout_bench.paths import project_root
from rollout_bench.results.store import run_dir, write_json, write_samples
from rollout_bench.results.summary import describes

CONTEXT = {"week": 5, "profile": "smoke", "stack": "embedded", "seed": 1, "git_sha": "abc",
           "machine": {"hostname": "vm", "cpus": 2, "cpu_model": "Xeon", "python": "3.11.7"},
           "servers": {"postgres": "18.6", "redis": "6.2.14", "nats": "2.15.1"}, "libraries": {"scipy": "1.17.1"}}


def _write_run(root: Path, run_id: str, rng: random.Random, scale: float = 1.0, foreign_cpu: float = 2.0,
               **context: Any) -> Path:
    folder = run_dir(run_id, root)
    summary = {**CONTEXT, **context, "run_id": run_id, "started_at": run_id,
               "cpu": {"foreign": {"samples": 90, "mean": foreign_cpu, "p95": foreign_cpu},
                       "disturbed": foreign_cpu > DISTURBED_CORE_PERCENT},
               "regression": {"alert_counts": {"this_run": {"mfa_disabled": 10, "stale_admin": 4}}}}
    write_json(folder / "summary.json", summary)
    write_samples(folder, {"job_latency_ms": {"unified": [rng.lognormvariate(3, 0.4) * scale for _ in range(300)],
                                              "legacy": []},
                           "queries_per_analysis": {"unified": [6.0] * 40, "legacy": []}})
    return folder


@pytest.fixture()
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    rng = random.Random(1)
    for number in range(3):
        _write_run(tmp_path, f"2026010{number}T000000Z-aaaaa{number}", rng)
    return tmp_path


def test_holm_rejects_step_down() -> None:
    assert holm([0.001, 0.02, 0.04], alpha=0.05) == [True, True, True]
    assert holm([0.001, 0.03, 0.04], alpha=0.05) == [True, False, False]
    assert holm_adjusted([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]


def test_server_majors_machine_and_stack_refuse_other_differences_are_listed() -> None:
    other = {**CONTEXT, "servers": {**CONTEXT["servers"], "postgres": "15.4", "nats": "2.15.2"}, "git_sha": "def"}
    refusing, listed = differences(CONTEXT, other)
    assert refusing == ["servers.postgres.major: '18' vs '15'"]
    assert "git_sha: 'abc' vs 'def'" in listed and "servers.nats: '2.15.1' vs '2.15.2'" in listed
    assert major("15.4 (Debian 15.4-1)") == "15" and major(None) is None


def test_baseline_stores_three_runs_and_compare_of_a_release_with_itself_is_no_change(
        results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    stored = json.loads((results / "releases" / "0.1.0" / "release.json").read_text())
    assert len(stored["runs"]) == 3
    assert all((results / "releases" / "0.1.0" / "runs" / r / "samples.json.gz").is_file() for r in stored["runs"])
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 2  # already stored, no --force
    capsys.readouterr()
    assert main(["compare", "--base", "0.1.0", "--head", "0.1.0", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {r["verdict"] for r in document["rows"] if r["runs"]} == {"no change"}
    assert len(document["base"]["runs"]) == 3


def test_compare_refuses_another_context_in_one_line_unless_forced(results: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    _write_run(results, "20260109T000000Z-bbbbbb", random.Random(2), stack="external",
               servers={**CONTEXT["servers"], "postgres": "15.4"})
    capsys.readouterr()
    assert main(["compare", "--base", "0.1.0", "--no-plot"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "stack: 'embedded' vs 'external'" in error and "postgres.major" in error
    assert main(["compare", "--base", "0.1.0", "--no-plot", "--force"]) in (0, 1)
    out = capsys.readouterr().out
    assert "context differs (refusing): stack: 'embedded' vs 'external'" in out
    assert "context differs: servers.postgres: '18.6' vs '15.4'" in out


def test_baseline_says_how_to_make_runs_when_too_few(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "--release", "x", "--runs", "5"]) == 2
    assert "RUNS=5" in capsys.readouterr().err


def test_regression_figures_without_a_baseline_leave_the_gates_inconclusive_with_how(results: Path) -> None:
    gates = {g.name: g for g in load_gates(project_root() / "ops" / "gates.toml", describes)}
    summary = {**CONTEXT, "run_id": "h"}
    summary["regression"] = regression_figures(summary, {}, {})
    assert summary["regression"]["baseline"] is None and "make baseline RELEASE=" in summary["regression"]["reason"]
    for name in ("no performance regression vs the last release (performance degrades)",
                 "alert counts per type within 10 % of the last release (validateAlertCounts)"):
        assert evaluate(gates[name], summary).result == "inconclusive"


class Finding:
    def __init__(self, alert_type: str) -> None:
        self.alert_type = alert_type


def _regression_gate() -> Any:
    return next(g for g in load_gates(project_root() / "ops" / "gates.toml", describes)
                if g.name.startswith("no performance regression"))


def _head_series(results: Path, scale: float, runs: int = CALIBRATED_RUNS, foreign_cpu: float = 2.0) -> tuple[list[Path], dict[str, Any]]:
    """A series of `runs` head runs: the earlier ones on disk, the last one's samples."""
    rng = random.Random(3)
    earlier = [_write_run(results, f"2026020{n}T000000Z-cccc{n}", rng, scale, foreign_cpu) for n in range(runs - 1)]
    samples = {"job_latency_ms": {"unified": [rng.lognormvariate(3, 0.4) * scale for _ in range(300)]},
               "queries_per_analysis": {"unified": [6.0] * 40}}
    return earlier, samples


def test_a_slow_series_against_a_stored_release_fails_the_regression_gate(results: Path) -> None:
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    earlier, samples = _head_series(results, scale=3)
    summary = {**CONTEXT, "run_id": "h"}
    summary["regression"] = regression_figures(summary, samples, {"t": [Finding("mfa_disabled")] * 10},
                                               earlier=earlier, series_runs=CALIBRATED_RUNS)
    figures = summary["regression"]
    assert figures["baseline"] == "0.1.0" and figures["baseline_runs"] == 3 and figures["head_runs"] == CALIBRATED_RUNS
    assert figures["flagged"] >= 1 and "job_latency_ms unified p50 x" in figures["reason"]
    assert evaluate(_regression_gate(), summary).result == "fail"
    assert figures["alert_counts"]["changes"] == [{"alert_type": "stale_admin", "base": 4.0, "head": 0, "moved": 1.0}]


def test_one_head_run_is_too_little_evidence_for_the_regression_gate(results: Path) -> None:
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    _, samples = _head_series(results, scale=3)
    summary = {**CONTEXT, "run_id": "h"}
    summary["regression"] = regression_figures(summary, samples, {})
    assert summary["regression"]["head_runs"] == 1
    assert evaluate(_regression_gate(), summary).result == "inconclusive"


def test_earlier_runs_of_a_series_defer_the_regression_gate_to_the_last(results: Path) -> None:
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    _, samples = _head_series(results, scale=3)
    summary = {**CONTEXT, "run_id": "h"}
    summary["regression"] = regression_figures(summary, samples, {}, earlier=[], series_runs=3)
    assert summary["regression"]["flagged"] is None and "run 1 of 3" in summary["regression"]["deferred"]
    assert summary["regression"]["alert_counts"]["types"] == 2  # alert counts are judged on every run
    [result] = [r for r in evaluate_all([_regression_gate()], summary, week=5)]
    assert result.result == "n/a" and "run 1 of 3" in result.note


def test_a_head_run_disturbed_by_other_work_is_not_compared(results: Path) -> None:
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    earlier, samples = _head_series(results, scale=3, foreign_cpu=80.0)
    summary = {**CONTEXT, "run_id": "h"}
    summary["regression"] = regression_figures(summary, samples, {}, earlier=earlier, series_runs=CALIBRATED_RUNS)
    figures = summary["regression"]
    assert figures["flagged"] is None and "busy with other work (80 % of a core" in figures["reason"]
    assert evaluate(_regression_gate(), summary).result == "inconclusive"


def test_a_baseline_refuses_disturbed_runs_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    rng = random.Random(1)
    runs = [_write_run(tmp_path, f"2026010{n}T000000Z-aaaaa{n}", rng, foreign_cpu=40.0 if n == 1 else 2.0)
            for n in range(3)]
    assert main(["baseline", "--release", "x", "--runs", "3"]) == 2
    assert "2 undisturbed run(s)" in capsys.readouterr().err
    assert main(["baseline", "--release", "x", "--run", runs[1].name]) == 2
    assert "busy with other work" in capsys.readouterr().err
    assert main(["baseline", "--release", "x", "--run", runs[1].name, "--force"]) == 0


def test_alert_counts_within_ten_percent_pass() -> None:
    figures = alert_count_figures({"a": 105, "b": 20}, [{"a": 100, "b": 20}, {"a": 100, "b": 21}])
    assert figures["moved"] == 0 and figures["types"] == 2


def test_trend_plot_shows_every_release(results: Path) -> None:
    from rollout_bench.compare.trend import trend_plot
    from rollout_bench.results.store import releases

    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    rng = random.Random(9)
    for number in range(3):
        _write_run(results, f"2026020{number}T000000Z-cccccc", rng, scale=2.0)
    assert main(["baseline", "--release", "0.2.0", "--runs", "3"]) == 0
    plot = trend_plot(releases(), results / "trend.png")
    assert plot is not None and plot.stat().st_size > 10_000
    assert [d.name for d in releases()] == ["0.1.0", "0.2.0"]
    from rollout_bench.compare.releases import consecutive

    (step,) = consecutive(releases())
    assert {(r.metric, r.statistic) for r in step.regressions} >= {("job_latency_ms", "p50")}


def test_loadtest_refuses_zero_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loadtest", "--week", "5", "--runs", "0"]) == 2
    assert "RUNS=0 is not allowed" in capsys.readouterr().err


def _bench_file(folder: Path, rng: random.Random, scale: float) -> None:
    data = [rng.lognormvariate(-5, 0.3) * scale for _ in range(200)]
    document = {"benchmarks": [{"fullname": "benchmarks/test_job_latency.py::test_job_latency_new_path",
                                "stats": {"median": sorted(data)[100], "rounds": 200, "data": data}}]}
    (folder / "bench.json").write_text(json.dumps(document))


def test_benchmarks_kept_with_a_release_are_reported_not_judged(results: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (results / "bench" / "Linux").mkdir(parents=True)
    _bench_file(results / "bench" / "Linux", random.Random(1), 1.0)
    (results / "bench" / "Linux" / "bench.json").rename(results / "bench" / "Linux" / "0001_bench.json")
    assert main(["baseline", "--release", "0.1.0", "--runs", "3"]) == 0
    assert (results / "releases" / "0.1.0" / "bench.json").is_file()
    head = results / "runs" / "20260102T000000Z-aaaaa2"
    _bench_file(head, random.Random(2), 3.0)
    capsys.readouterr()
    assert main(["compare", "--base", "0.1.0", "--head", head.name, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["bench"]
    assert row["verdict"] == "reported" and 2.5 < row["ratio"] < 3.5 and row["ci_low"] > 2
