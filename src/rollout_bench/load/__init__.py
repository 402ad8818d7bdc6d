"""Drives Locust for the orchestrator."""

from rollout_bench.load.locust import LoadResult, run_load

__all__ = ["LoadResult", "run_load"]
