"""The Prometheus alert rules fire and stay quiet as their promtool unit tests say."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

OPS = Path(__file__).resolve().parents[2] / "ops"


def _promtool() -> str | None:
    local = OPS.parent / "tools" / "promtool" / "usr" / "bin" / "promtool"
    return shutil.which("promtool") or (str(local) if local.is_file() else None)


@pytest.mark.skipif(_promtool() is None, reason="promtool not installed (.ci/run extracts Debian's prometheus package)")
def test_alert_rules_pass_their_promtool_tests() -> None:
    result = subprocess.run(["bash", str(OPS / "promtool-test.sh")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
