"""report.html with its PNG plots."""

from .html import write_report

__all__ = ["write_report"]
