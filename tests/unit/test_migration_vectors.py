"""Routing buckets are bit-exact with the refactor plan's TypeScript hashString, proved against
vectors Node computed by running the refactor plan's function (fixtures/hash_vectors.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from msp_pipeline.migration import TenantMigration, bucket_of, hash_string

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VECTORS: list[dict[str, Any]] = json.loads((FIXTURES / "hash_vectors.json").read_text())["vectors"]


def test_vector_file_covers_the_hard_cases() -> None:
    kinds = {v["kind"] for v in VECTORS}
    assert {"empty", "ascii", "uuid", "accented", "non-bmp", "long", "min-int"} <= kinds
    assert len(VECTORS) >= 200
    assert any(v["hash"] == 2**31 and v["bucket"] == 48 for v in VECTORS)
    # surrogate pairs: more UTF-16 code units than Python code points
    assert any(v["utf16_length"] > len(v["tenant_id"]) for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['kind']}-{v['tenant_id'][:20]!r}")
def test_python_matches_node(vector: dict[str, Any]) -> None:
    assert hash_string(vector["tenant_id"]) == vector["hash"]
    assert bucket_of(vector["tenant_id"]) == vector["bucket"]
    assert TenantMigration.bucket(vector["tenant_id"]) == vector["bucket"]


def test_min_int_hash_routes_like_the_seed() -> None:
    """Math.abs(-2**31) stays 2**31 in JS, so the bucket is 48: in at 49 %, out at 48 %."""
    tenant = next(v["tenant_id"] for v in VECTORS if v["kind"] == "min-int")
    assert TenantMigration(bullmq_enabled=True, percentage=49).should_use_bullmq(tenant)
    assert not TenantMigration(bullmq_enabled=True, percentage=48).should_use_bullmq(tenant)


@pytest.mark.skipif(shutil.which("node") is None, reason="node not on PATH: cannot regenerate the vectors")
def test_committed_vectors_are_what_node_prints_now() -> None:
    out = subprocess.run(["node", str(FIXTURES / "hash_vectors.mjs")], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    assert json.loads(out)["vectors"] == VECTORS
