"""Drives Locust for the orchestrator."""

from .runner import LoadResult, run_load

__all__ = ["LoadResult", "run_load"]
