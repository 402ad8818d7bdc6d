"""One full analysis per path on one synthetic tenant, in a scratch database per path
(so neither path sees the other's alerts): statements, rows read, seconds, findings and
whether they match what the generator planted."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from msp_pipeline.analysis import AnalysisOutcome
from msp_pipeline.model import Finding
from msp_pipeline.pool import open_pool
from msp_pipeline.rules import Quirks
from rollout_bench.stack.scratch import scratch_database
from rollout_bench.tenants import generate_tenant, load_profile, load_tenants

PATHS = ("legacy", "unified")


@dataclass(frozen=True)
class ProbeRequest:
    profile: str
    seed: int = 1
    paths: tuple[str, ...] = PATHS
    legacy_quirks: Quirks = Quirks()


def finding_keys(findings: list[Finding]) -> Counter[tuple[str, str, str, str]]:
    return Counter((f.entity_external_id, f.alert_type, f.severity, f.subject) for f in findings)


def _path_report(outcome: AnalysisOutcome, expected: list[Finding], load_s: float) -> dict[str, Any]:
    got, want = finding_keys(outcome.findings), finding_keys(expected)
    report: dict[str, Any] = {
        "queries": outcome.queries,
        "rows_read": outcome.rows_read,
        "seconds": round(outcome.seconds, 4),
        "tenant_load_s": round(load_s, 3),
        "findings": len(outcome.findings),
        "findings_by_type": outcome.findings_by_type(),
        "matches_expected": got == want,
        "missing": sum((want - got).values()),
        "extra": sum((got - want).values()),
    }
    if outcome.per_analyzer:
        report["per_analyzer"] = {
            a.name: {"queries": a.queries, "rows_read": a.rows_read, "seconds": round(a.seconds, 4),
                     "findings": len(a.findings)}
            for a in outcome.per_analyzer
        }
    return report


async def _analyse(path: str, database_url: str, tenant_id: str, data_source_id: str,
                   request: ProbeRequest) -> AnalysisOutcome:
    from msp_pipeline.legacy import run_legacy_analysis
    from msp_pipeline.unified import run_unified_analysis

    pool = await open_pool(database_url, max_size=2)
    now = datetime.now(timezone.utc)
    try:
        if path == "legacy":
            return await run_legacy_analysis(pool, tenant_id, data_source_id, sync_id="probe", now=now,
                                             quirks=request.legacy_quirks)
        return await run_unified_analysis(pool, tenant_id, data_source_id, sync_id="probe", now=now)
    finally:
        await pool.close()


def run_probe(server_url: str, request: ProbeRequest) -> dict[str, Any]:
    profile = load_profile(request.profile)
    result: dict[str, Any] = {"profile": request.profile, "seed": request.seed, "paths": {}}
    for path in request.paths:
        with scratch_database(server_url, f"probe_{path}") as url:
            started = time.perf_counter()
            report = load_tenants(url, request.profile, 1, request.seed)
            load_s = time.perf_counter() - started
            tenant = generate_tenant(profile, request.seed, 0, report.as_of)
            outcome = asyncio.run(_analyse(path, url, tenant.tenant_id, tenant.data_source_id, request))
            result["tenant"] = {"id": tenant.tenant_id, **tenant.shape()}
            result["expected_findings"] = len(tenant.expected_findings)
            result["paths"][path] = _path_report(outcome, tenant.expected_findings, load_s)
            if path == "legacy":
                result["paths"][path]["quirks"] = [n for n in Quirks.names() if getattr(request.legacy_quirks, n)]
    return result
