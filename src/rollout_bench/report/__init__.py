"""report.html with its PNG plots."""

from rollout_bench.report.html import write_report

__all__ = ["write_report"]
