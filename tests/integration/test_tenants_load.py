"""Loading tenants with COPY into a real database."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import psycopg
import pytest

from rollout_bench.tenants import apply_mutation, load_tenants

pytestmark = pytest.mark.integration


def test_load_writes_tenants_entities_and_relationships(database_url: str) -> None:
    report = load_tenants(database_url, "worked-example", 1, seed=1)
    with psycopg.connect(database_url) as conn:
        counts = dict(conn.execute("SELECT entity_type, count(*) FROM entities GROUP BY 1").fetchall())
        members = conn.execute(
            "SELECT count(*) FROM entity_relationships WHERE relationship_type = 'member_of'").fetchone()
        graph = conn.execute("SELECT count(*) FROM graph_source").fetchone()
    assert counts == {"identities": 150, "groups": 50, "roles": 5, "policies": 10, "licenses": 20}
    assert members == (300,)
    assert graph == (report.entities,)


def test_two_loads_with_other_indexes_coexist(database_url: str) -> None:
    first = load_tenants(database_url, "small", 3, seed=2)
    second = load_tenants(database_url, "small", 3, seed=2, first_index=3)
    assert not set(first.tenant_ids) & set(second.tenant_ids)


def test_mutation_changes_graph_source(database_url: str) -> None:
    report = load_tenants(database_url, "small", 1, seed=3)
    tenant = report.tenant_ids[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        changed = apply_mutation(conn, tenant, "disable_user", random.Random(1))
        user = changed.user
        enabled = conn.execute(
            "SELECT payload->>'accountEnabled' FROM graph_source WHERE external_id = %s", (user,)).fetchone()
    assert enabled == ("false",)


def test_cli_load_prints_the_report(database_url: str) -> None:
    out = subprocess.run([sys.executable, "-m", "rollout_bench", "tenants", "load", "--profile", "small",
                          "--count", "2", "--seed", "4", "--database-url", database_url],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["tenants"] == 2
