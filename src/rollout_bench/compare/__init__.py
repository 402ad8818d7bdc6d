"""Release comparison: runs of a head against the stored runs of a release."""

# Runs a side the method is calibrated for (tests/unit/test_compare_calibration.py): the
# default of `make baseline` and `remeasure`, the smoke profile's series, and the regression
# gate's min_samples in ops/gates.toml (tests/unit/test_calibrated_runs.py keeps them equal).
CALIBRATED_RUNS = 10
