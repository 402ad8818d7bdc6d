"""Locust scenarios of the rollout gate: load shapes, week scenarios, wire-contract users."""
