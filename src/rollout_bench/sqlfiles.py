"""The harness's SQL lives in `rollout_bench/sql/<area>/<name>.sql`; this loads it by name."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    path = resources.files("rollout_bench") / "sql" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file sql/{name}.sql in rollout_bench")
    return path.read_text()
