"""Bad input to the suite's own commands: one line naming the bad value and the allowed
ones, exit code 2, before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("args, fragment", [
    (["loadtest", "--week", "9"], "WEEK=9 is not a rollout week; allowed: 1, 2, 3, 4, 5, 6, 7"),
    (["loadtest", "--week", "x"], "WEEK='x'"),
    (["loadtest", "--week", "5", "--profile", "huge"], "PROFILE='huge' is not a load profile; allowed: tiny, smoke"),
    (["drill", "earthquake"], "drill 'earthquake' is unknown; allowed: worker-kill"),
    (["tenants", "describe", "--profile", "nope"], "tenant profile 'nope' not found; allowed:"),
    (["probe", "--profile", "small", "--legacy-quirks", "bogus"], "unknown quirk 'bogus'"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    result = subprocess.run([sys.executable, "-m", "rollout_bench", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
