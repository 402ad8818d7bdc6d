"""Fault drills (`make drill NAME=...`, `make drills`)."""

from .scenarios import DRILLS

__all__ = ["DRILLS"]
