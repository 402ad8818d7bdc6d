"""Prometheus metrics with the refactor plan's names and labels, one registry per process."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge("pipeline_queue_depth", "Jobs waiting", ["path"], registry=r)
        self.queue_latency = Histogram("pipeline_queue_latency_seconds", "Job added or due -> started",
                                       ["path"], buckets=_LATENCY_BUCKETS, registry=r)
        self.analysis_duration = Histogram("pipeline_analysis_duration_seconds", "Analysis wall time",
                                           ["analyzer_type"], buckets=_LATENCY_BUCKETS, registry=r)
        self.findings = Counter("pipeline_findings_total", "Findings", ["alert_type", "severity"], registry=r)
        self.errors = Counter("pipeline_errors_total", "Errors", ["module", "error_type"], registry=r)
        self.query_duration = Histogram("pipeline_query_duration_seconds", "SQL statement time",
                                        ["table", "operation"], buckets=_LATENCY_BUCKETS, registry=r)
        self.slow_queries = Counter("pipeline_slow_queries_total", "Statements over 1 s", registry=r)
        self.jobs = Counter("pipeline_jobs_total", "Jobs by final state", ["path", "state"], registry=r)
        self.comparison_mismatches = Counter("pipeline_comparison_mismatches_total",
                                             "Comparison mode mismatches", ["alert_type"], registry=r)
        self.dead_letters = Counter("pipeline_dead_letters_total", "Inputs sent to a dead letter",
                                    ["source", "reason"], registry=r)
        self.redis_up = Gauge("pipeline_redis_up", "1 when the process reaches Redis", registry=r)
        self.lost_jobs = Gauge("pipeline_lost_jobs", "Jobs seen added but neither completed nor failed",
                               registry=r)

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Serves /metrics on addr:port (0 = pick none)."""
        if port:
            start_http_server(port, addr=addr, registry=self.registry)
