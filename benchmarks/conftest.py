"""Benchmarks run against real servers (the stack of STACK, default auto) with one
scratch database per tenant profile, loaded once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from rollout_bench.stack import StackUrls, open_stack
from rollout_bench.stack.scratch import scratch_database
from rollout_bench.tenants import load_tenants


@pytest.fixture(scope="session")
def bench_stack() -> Iterator[StackUrls]:
    with open_stack(os.environ.get("STACK", "auto")) as urls:
        yield urls


@pytest.fixture(scope="session")
def tenant_databases(bench_stack: StackUrls) -> Iterator[dict[str, tuple[str, str]]]:
    """profile -> (database url, tenant id), one tenant per profile."""
    out: dict[str, tuple[str, str]] = {}
    contexts = []
    for profile in ("worked-example", "10x", "100x"):
        context = scratch_database(bench_stack.database_url, f"bench_{profile.replace('-', '_')}")
        url = context.__enter__()
        contexts.append(context)
        out[profile] = (url, load_tenants(url, profile, 1, seed=1).tenant_ids[0])
    yield out
    for context in contexts:
        context.__exit__(None, None, None)
