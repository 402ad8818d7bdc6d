"""The query-count cross-check on real servers: the machine's PostgreSQL (15 here) and the
embedded one (18, which stores statement texts without their leading comment). One full
analysis per path; every statement the analysis counted is found in pg_stat_statements,
attributed to its files by text."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timezone

import psycopg
import pytest

from msp_pipeline.legacy import run_legacy_analysis
from msp_pipeline.pool import open_pool
from msp_pipeline.rules import Quirks
from msp_pipeline.unified import run_unified_analysis
from rollout_bench.collect.records import statement_entries
from rollout_bench.collect.statements import attribute, pipeline_statement_files, queries_check
from rollout_bench.stack import StackUrls, open_stack
from rollout_bench.stack.scratch import enable_pg_stat_statements, scratch_database
from rollout_bench.tenants import load_tenants

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["machine", "embedded"])
def server_url(request: pytest.FixtureRequest, stack_urls: StackUrls) -> Iterator[str]:
    if request.param == "machine":
        yield stack_urls.database_url
        return
    with open_stack("embedded") as urls:
        yield urls.database_url


def _analyse(url: str, tenant_id: str, data_source_id: str) -> dict[str, int]:
    async def both() -> dict[str, int]:
        pool = await open_pool(url, max_size=2)
        now = datetime.now(timezone.utc)
        try:
            unified = await run_unified_analysis(pool, tenant_id, data_source_id, sync_id="attr", now=now)
            legacy = await run_legacy_analysis(pool, tenant_id, data_source_id, sync_id="attr", now=now,
                                               quirks=Quirks())
        finally:
            await pool.close()
        return {"unified": unified.queries, "legacy": sum(a.queries for a in legacy.per_analyzer)}

    return asyncio.run(both())


def test_every_counted_statement_is_matched_to_its_file(server_url: str) -> None:
    with scratch_database(server_url, "attr") as url:
        if not enable_pg_stat_statements(url):
            pytest.skip("this server does not preload pg_stat_statements (.ci/run enables it)")
        with psycopg.connect(url, autocommit=True) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()[0]  # type: ignore[index]
        report = load_tenants(url, "worked-example", 1, seed=1)
        counted = _analyse(url, report.tenant_ids[0], f"ds-{report.tenant_ids[0]}")
        with psycopg.connect(url, autocommit=True) as conn:
            entries = statement_entries(conn)
        assert entries is not None
        check = queries_check(counted, attribute(entries, pipeline_statement_files()))
        for path in ("unified", "legacy"):
            assert check[path]["matched_files"] > 0, (version, path, check)
            assert check[path]["deviation"] == 0, (version, path, check)
