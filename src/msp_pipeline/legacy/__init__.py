"""The legacy path: a scheduler polling scheduled_jobs, four analyzers with per-entity
queries, and the legacy alert manager (with its quirks)."""

from .analysis import run_analyzer, run_legacy_analysis

__all__ = ["LegacyAnalyzers", "LegacyScheduler", "run_analyzer", "run_legacy_analysis"]


def __getattr__(name: str) -> object:
    if name == "LegacyScheduler":
        from .scheduler import LegacyScheduler

        return LegacyScheduler
    if name == "LegacyAnalyzers":
        from .consumers import LegacyAnalyzers

        return LegacyAnalyzers
    raise AttributeError(name)
