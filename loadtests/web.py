"""A tab in the Locust web UI with the pipeline's own figures: queue depth per path, job
latency percentiles per path from job_runs and analyses committed, not only request counts."""

from __future__ import annotations

import json
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


TAB_KEY = "pipeline"


def pipeline_rows(config: LoadConfig) -> list[dict[str, str]]:
    return [{"name": name, "value": str(value)} for name, value in pipeline_figures(config).items()]


def add_pipeline_tab(web_ui: Any, config: LoadConfig) -> None:
    """A "Pipeline" tab in Locust's own web UI (its extension points: extendedTabs and
    extendedTables in the template, extendedStats in every /stats/requests poll), so queue
    depth, job latency and analyses committed update live beside Locust's request stats."""
    from flask import request

    web_ui.template_args["extendedTabs"] = [{"title": "Pipeline", "key": TAB_KEY}]
    web_ui.template_args["extendedTables"] = [{"key": TAB_KEY, "structure": [
        {"key": "name", "title": "Pipeline figure"}, {"key": "value", "title": "Value"}]}]

    @web_ui.app.after_request
    def add_pipeline_stats(response: Any) -> Any:
        if request.path != "/stats/requests" or not response.is_json:
            return response
        try:
            rows = pipeline_rows(config)
        except (psycopg.OperationalError, redis.RedisError) as exc:  # a server down: say so in the tab
            rows = [{"name": "pipeline figures unavailable", "value": f"{type(exc).__name__}: {exc}"}]
        data = response.get_json()
        data["extendedStats"] = [{"key": TAB_KEY, "data": rows}]
        response.set_data(json.dumps(data))
        return response
