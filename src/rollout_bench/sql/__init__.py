"""The harness's SQL lives in `rollout_bench/sql/<area>/<name>.sql`; this loads it by name."""

from __future__ import annotations

from msp_pipeline.contract.sql import read_sql


def load(name: str) -> str:
    return read_sql("rollout_bench", name)
