"""An extra page on the Locust web UI (/pipeline): the pipeline's own figures — queue
depth per path and job latency percentiles from job_runs — not only request counts."""

from __future__ import annotations

import html
from typing import Any

import psycopg
import redis

from rollout_bench.load.config import LoadConfig
from rollout_bench.pipeline.wire import legacy_depth, unified_depth
from rollout_bench.sql import load


def pipeline_figures(config: LoadConfig) -> dict[str, Any]:
    client = redis.Redis.from_url(config.redis_url, socket_timeout=2)
    try:
        unified_waiting = unified_depth(client, config.bullmq_prefix)
    finally:
        client.close()
    with psycopg.connect(config.database_url) as conn:
        legacy_waiting = legacy_depth(conn)
        latency = conn.execute(load("loadtests/job_latency_percentiles")).fetchall()
        analyses = conn.execute(load("loadtests/analysis_counts")).fetchall()
    return {"queue depth, new path": unified_waiting, "queue depth, legacy": legacy_waiting,
            **{f"job latency ms p50/p95/p99, {path}": f"{p50:.0f} / {p95:.0f} / {p99:.0f} (n={n})"
               for path, n, p50, p95, p99 in latency},
            **{f"analyses committed, {path}": n for path, n in analyses}}


def add_pipeline_page(app: Any, config: LoadConfig) -> None:
    @app.route("/pipeline")
    def pipeline_page() -> str:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                       for k, v in pipeline_figures(config).items())
        return ("<html><head><meta http-equiv='refresh' content='2'><title>pipeline</title></head><body>"
                f"<h2>Pipeline figures</h2><table border='1' cellpadding='4'>{rows}</table></body></html>")
