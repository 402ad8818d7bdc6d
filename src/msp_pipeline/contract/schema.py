"""Applies the numbered `.sql` migrations in `schema/` in order, once each."""

from __future__ import annotations

from importlib import resources

import psycopg

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_LOCK_KEY = 7_200_431  # advisory lock: two processes migrating at once wait for each other


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in order."""
    folder = resources.files("msp_pipeline") / "schema"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text()) for name in names]


def apply_migrations(conninfo: str) -> list[str]:
    """Applies what is missing; returns the versions applied now."""
    applied_now: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(_LEDGER)
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, sql in migration_files():
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied_now.append(version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def reset_data(conninfo: str) -> None:
    """Empties every pipeline table (keeps the schema). For tests and fresh load-test runs."""
    tables = (
        "entity_alert_history, entity_alerts, analysis_runs, entity_relationships, entities, "
        "graph_source, scheduled_jobs, data_sources, integrations, tenants"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
