"""The number of runs a side that the release comparison is calibrated for is one number:
`make baseline` stores that many, the smoke series makes that many, and the regression gate
asks for that many head runs (tests/unit/test_compare_calibration.py measures its rates)."""

from __future__ import annotations

from rollout_bench.commands.compare import DEFAULT_BASELINE_RUNS
from rollout_bench.compare import CALIBRATED_RUNS
from rollout_bench.judge.gates import load_gates
from rollout_bench.load.profiles import LOAD_PROFILES
from rollout_bench.paths import gates_file


def test_baseline_smoke_series_and_regression_gate_agree_on_the_calibrated_runs() -> None:
    regression_gate = next(g for g in load_gates(gates_file()) if g.samples_path == "regression.head_runs")
    assert (DEFAULT_BASELINE_RUNS, LOAD_PROFILES["smoke"].runs, regression_gate.min_samples) == (
        CALIBRATED_RUNS, CALIBRATED_RUNS, CALIBRATED_RUNS)
