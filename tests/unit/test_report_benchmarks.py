"""The pytest-benchmark results of a run: the command a loadtest runs them with, and the
report's section beside the stored release's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rollout_bench.collect.bench import benchmark_command
from rollout_bench.report.benchmarks import benchmarks_section
from rollout_bench.results.store import run_dir, store_baseline, write_json, write_samples

CONTEXT = {"week": 5, "profile": "standard", "stack": "embedded", "git_sha": "abc",
           "machine": {"hostname": "vm", "cpus": 2, "cpu_model": "Xeon"},
           "servers": {"postgres": "18.6", "redis": "6.2.14", "nats": "2.15.1"}}


def _bench(folder: Path, median_s: float, seed: int) -> None:
    rng = random.Random(seed)
    data = [rng.lognormvariate(0, 0.05) * median_s for _ in range(60)]
    write_json(folder / "bench.json", {"benchmarks": [{
        "fullname": "benchmarks/test_analysis.py::test_unified_analysis[10x]",
        "stats": {"median": sorted(data)[30], "rounds": len(data), "data": data}}]})


def test_the_benchmark_command_saves_every_round_and_can_skip(tmp_path: Path) -> None:
    command = benchmark_command(tmp_path, skip=["100x"])
    assert f"--benchmark-json={tmp_path / 'bench.json'}" in command and "--benchmark-save-data" in command
    assert command[-2:] == ["-k", "not 100x"]


def test_the_section_shows_the_run_against_the_stored_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUT_BENCH_RESULTS", str(tmp_path))
    runs = []
    for number in range(2):
        folder = run_dir(f"2026010{number}T000000Z-aaaaa{number}", tmp_path)
        write_json(folder / "summary.json", {**CONTEXT, "run_id": folder.name, "started_at": folder.name})
        write_samples(folder, {})
        _bench(folder, 0.160, number)
        runs.append(folder)
    store_baseline(runs, "1.0.0", tmp_path)
    assert json.loads((tmp_path / "releases" / "1.0.0" / "runs" / runs[0].name / "bench.json").read_text())
    (tmp_path / "releases" / "1.0.0" / "bench.json").write_text((runs[1] / "bench.json").read_text())
    head = run_dir("20260201T000000Z-bbbbbb", tmp_path)
    _bench(head, 0.320, 7)
    html = benchmarks_section(head, {**CONTEXT, "run_id": head.name})
    assert "test_unified_analysis[10x]" in html and "release 1.0.0" in html and "x1.96 [" in html


def test_a_run_without_benchmarks_says_so(tmp_path: Path) -> None:
    assert "No benchmark in this run" in benchmarks_section(tmp_path, CONTEXT)
