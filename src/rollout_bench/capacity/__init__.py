"""Capacity and headroom: the highest arrival rate a path (or a week's mix) sustains on this
machine, found by a step search, with scale-out over worker processes and a USL fit."""
