"""The Pipeline tab in Locust's own web UI, as `make loadtest-ui` starts it: declared
through Locust's extension points and filled, on every stats poll, with the pipeline's
figures read from the real servers. (Locust runs as its own process: it monkey-patches.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from rollout_bench.load.config import CONFIG_ENV, LoadConfig
from rollout_bench.paths import locustfile
from rollout_bench.pipeline.supervisor import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def _answers(url: str) -> bool:
    try:
        _get(url)
        return True
    except OSError:
        return False


def test_the_pipeline_tab_shows_the_pipelines_own_figures(database_url: str, redis_url: str, nats_url: str,
                                                          tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    LoadConfig(redis_url, database_url, nats_url, "tab-test", {}, [], [], "tiny", str(tmp_path)).save(config)
    port = free_port()
    ui = subprocess.Popen([sys.executable, "-m", "locust", "-f", str(locustfile()), "--skip-log-setup",
                           "--web-host", "127.0.0.1", "--web-port", str(port)],
                          env={**os.environ, CONFIG_ENV: str(config)}, stdout=subprocess.DEVNULL,
                          stderr=(tmp_path / "locust.log").open("wb"))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: ui.poll() is None and _answers(base + "/"), timeout=30, what="the Locust web UI")
        page = _get(base + "/")
        assert b"extendedTabs" in page and b"Pipeline" in page
        data = json.loads(_get(base + "/stats/requests"))
        (tab,) = [e for e in data["extendedStats"] if e["key"] == "pipeline"]
        figures = {row["name"]: row["value"] for row in tab["data"]}
        assert figures["queue depth, new path"] == "0" and figures["queue depth, legacy"] == "0"
        assert "stats" in data  # Locust's own figures are still there
    finally:
        ui.terminate()
        ui.wait(timeout=20)
    assert ui.returncode is not None, (tmp_path / "locust.log").read_text()
