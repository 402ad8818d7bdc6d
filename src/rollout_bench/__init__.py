"""The rollout gate: stack, workload, probes, gates, results, report, compare, CLI."""

__version__ = "0.1.0"
