"""One real end-to-end run of `python -m rollout_bench loadtest` (a 20 s profile) against
the test servers: every artifact is written, the summary matches its schema, nothing is
lost, the pipeline processes are gone afterwards, and no secret reaches an artifact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from rollout_bench.report.html import SECTIONS
from rollout_bench.results.summary import validate
from tests.support.browser import chromium, images_loaded, rendered_dom, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-pw-do-not-log"


def test_week_5_tiny_run_end_to_end(stack_urls, tmp_path: Path) -> None:
    # A password in the URL (the test server trusts loopback, so it is accepted and ignored):
    # it must not reach any artifact of the run.
    database_url = stack_urls.database_url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    assert SECRET in database_url
    env = {**os.environ, "REDIS_URL": stack_urls.redis_url, "NATS_URL": stack_urls.nats_url,
           "DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-m", "rollout_bench", "loadtest", "--week", "5", "--profile", "tiny",
                             "--stack", "external"], cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    # 20 s at 2 syncs/s is too little evidence for a p99: INCONCLUSIVE (exit 4), never PROMOTE.
    assert result.returncode == 4, result.stdout[-3000:] + result.stderr[-2000:]
    assert "VERDICT: INCONCLUSIVE" in result.stdout
    run_dir = Path(result.stdout.split("results: ")[1].split("/ (")[0])
    run_dir = run_dir if run_dir.is_absolute() else REPO / run_dir
    summary = json.loads((run_dir / "summary.json").read_text())
    assert validate(summary) == []
    assert summary["jobs"]["enqueued"] > 0 and summary["jobs"]["lost"] == 0
    assert summary["metrics"]["queries_per_analysis"]["unified"]["max"] == 6
    assert summary["accuracy_by_path"]["unified"]["missing"] == 0
    assert summary["accuracy_by_path"]["unified"]["extra"] == 0
    assert summary["accuracy_scope"]["tenants_judged"] == summary["cohort"]["tenants"]["unified"] + \
        summary["cohort"]["tenants"]["legacy"]
    assert summary["syncs"]["unified"]["not_analysed_once"] == 0
    p99 = next(g for g in summary["gates"] if g["name"].startswith("job latency, new path"))
    assert p99["result"] == "inconclusive" and p99["needed"] and p99["samples"] < p99["needed"]
    if summary["queries_check"]["pg_stat_statements"]:
        assert summary["queries_check"]["unified"]["deviation"] <= 0.05
    for name in ("report.html", "junit.xml", "job_latency.png", "queries_vs_size.png", "samples.json.gz"):
        assert (run_dir / name).is_file(), name
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if "msp_pipeline" in " ".join(p.info["cmdline"] or []) and str(run_dir) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
    for artifact in run_dir.rglob("*"):
        if artifact.is_file() and artifact.suffix in (".json", ".html", ".xml", ".log"):
            assert SECRET not in artifact.read_text(errors="replace"), artifact
    assert SECRET not in result.stdout + result.stderr

    _check_report_in_a_browser(run_dir)


def _check_report_in_a_browser(run_dir: Path) -> None:
    """The report as a person sees it: every section there, every plot loaded (embedded, so
    it reads offline), a screenshot kept beside the report."""
    binary = chromium()
    if binary is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): the report was not looked at")
    dom = rendered_dom(binary, run_dir / "report.html")
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    loaded, total = images_loaded(dom)
    assert total >= 4 and loaded == total, (loaded, total)
    assert "src=\"data:image/png;base64," in dom  # no external asset
    shot = screenshot(binary, run_dir / "report.html", run_dir / "report.png")
    assert shot.is_file() and shot.stat().st_size > 10_000
