"""Fault drills (`make drill NAME=...`, `make drills`)."""

from rollout_bench.drills.scenarios import DRILLS

__all__ = ["DRILLS"]
