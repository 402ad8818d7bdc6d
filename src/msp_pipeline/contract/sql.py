"""SQL lives in `.sql` files under `msp_pipeline/sql/`; this loads them by name."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_TABLE = re.compile(r"\b(?:from|into|update|join)\s+([a-z_]+)", re.IGNORECASE)


@cache
def read_sql(package: str, name: str) -> str:
    """The text of <package>/sql/<name>.sql (the harness keeps its SQL the same way)."""
    path = resources.files(package) / "sql" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file sql/{name}.sql in {package}")
    return path.read_text()


def load(name: str) -> str:
    """load('legacy/analyzers/identities') -> the text of sql/legacy/analyzers/identities.sql"""
    return read_sql("msp_pipeline", name)


@cache
def labels(sql_text: str) -> tuple[str, str]:
    """(table, operation) for the pipeline_query_duration_seconds metric."""
    body = "\n".join(line for line in sql_text.splitlines() if not line.strip().startswith("--"))
    words = body.split()
    operation = words[0].lower() if words else "unknown"
    if operation == "with":
        operation = next((w.lower() for w in words if w.lower() in ("select", "insert", "update", "delete")), "select")
    match = _TABLE.search(body)
    return (match.group(1).lower() if match else "none", operation)
