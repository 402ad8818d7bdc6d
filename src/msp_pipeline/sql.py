"""SQL lives in `.sql` files under `msp_pipeline/sql/`; this loads them by name."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_TABLE = re.compile(r"\b(?:from|into|update|join)\s+([a-z_]+)", re.IGNORECASE)


@cache
def load(name: str) -> str:
    """load('legacy/mfa_identities') -> the text of sql/legacy/mfa_identities.sql"""
    path = resources.files("msp_pipeline") / "sql" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file sql/{name}.sql in msp_pipeline")
    return path.read_text()


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
