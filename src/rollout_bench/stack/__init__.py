"""Redis, NATS and Postgres for the suite: external, containers or embedded (DESIGN.md).

TEMPORARY (helper "stack" replaces this): only `external` from the environment, falling
back to the machine's loopback services.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class StackUrls:
    redis_url: str
    nats_url: str
    database_url: str


@contextmanager
def open_stack(mode: str = "auto") -> Iterator[StackUrls]:
    yield StackUrls(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
