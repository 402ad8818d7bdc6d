"""The legacy path: a scheduler polling scheduled_jobs, four analyzers with per-entity
queries, and the legacy alert manager (with its quirks)."""

from msp_pipeline.legacy.analysis import run_analyzer, run_legacy_analysis

__all__ = ["LegacyAnalyzers", "LegacyScheduler", "run_analyzer", "run_legacy_analysis"]


def __getattr__(name: str) -> object:
    if name == "LegacyScheduler":
        from msp_pipeline.legacy.scheduler import LegacyScheduler

        return LegacyScheduler
    if name == "LegacyAnalyzers":
        from msp_pipeline.legacy.consumers import LegacyAnalyzers

        return LegacyAnalyzers
    raise AttributeError(name)
