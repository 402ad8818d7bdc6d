"""Where the suite's files are, found from the installed package rather than the working
directory, so `rollout-bench ...` works from any folder.

The project root is the checkout that holds this package (`src/rollout_bench` below it),
or ROLLOUT_BENCH_ROOT. Results go to `<root>/results` unless ROLLOUT_BENCH_RESULTS names
another folder; fixtures to `<root>/fixtures` unless ROLLOUT_BENCH_FIXTURES does.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "ROLLOUT_BENCH_ROOT"
RESULTS_ENV = "ROLLOUT_BENCH_RESULTS"
FIXTURES_ENV = "ROLLOUT_BENCH_FIXTURES"
_PACKAGE = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout: the first folder above this package with a pyproject.toml and ops/."""
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).resolve()
    for folder in _PACKAGE.parents:
        if (folder / "pyproject.toml").is_file() and (folder / "ops").is_dir():
            return folder
    return Path.cwd()


def results_dir() -> Path:
    override = os.environ.get(RESULTS_ENV)
    return Path(override) if override else project_root() / "results"


def fixtures_dir() -> Path:
    override = os.environ.get(FIXTURES_ENV)
    return Path(override) if override else project_root() / "fixtures"


def gates_file() -> Path:
    return project_root() / "ops" / "gates.toml"


def locustfile() -> Path:
    return project_root() / "loadtests" / "locustfile.py"


def stack_state_dir() -> Path:
    """`.stack/` at the project root: what `stack up` left running (state.json, env)."""
    return project_root() / ".stack"
