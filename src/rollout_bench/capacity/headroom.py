"""The plan's success criterion "load testing validates 10x the current scale" as a gate:
headroom = the knee of the week's own mix (a capacity search, `make capacity WEEK=n
PATH=mix`) / the production arrival rate (ops/production.toml), judged by the standard
profile (which runs that search before its load) against `capacity.headroom >= 10`.

Only a search of the same commit (a clean tree), machine and week is evidence: an older
release's knee says nothing of this one. None found -> the gate is INCONCLUSIVE, saying how
to make one; other profiles list the gate as n/a."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rollout_bench.capacity.describe import describe_result
from rollout_bench.capacity.result import CapacityResult
from rollout_bench.capacity.stored import results_in
from rollout_bench.paths import results_dir

MACHINE_KEYS = ("hostname", "cpu_model", "cpus")
NEW_PATH_ONLY_WEEKS = (5, 6, 7)  # every tenant on the new path: PATH=unified is the week's mix


def _evidence_for(result: CapacityResult, summary: Mapping[str, Any]) -> bool:
    context, machine = result.context, summary.get("machine") or {}
    sha = str(summary.get("git_sha", ""))
    return (result.knee is not None and not sha.endswith("-dirty") and context.get("git_sha") == sha
            and result.week == summary.get("week") and result.workers == 1
            and (result.path == "mix" or (result.path == "unified" and result.week in NEW_PATH_ONLY_WEEKS))
            and all((context.get("machine") or {}).get(k) == machine.get(k) for k in MACHINE_KEYS))


def latest_search_of(summary: Mapping[str, Any], root: Path | None = None) -> CapacityResult | None:
    """The latest capacity search that is evidence for this run (see the module docstring)."""
    runs = sorted(((root or results_dir()) / "runs").glob("*"), reverse=True)
    for folder in runs:
        for result in reversed(results_in(folder)):
            if _evidence_for(result, summary):
                return result
    return None


def headroom_figures(summary: Mapping[str, Any], judged: bool, root: Path | None = None) -> dict[str, Any]:
    empty: dict[str, Any] = {"run_id": None, "path": None, "knee_syncs_per_s": None, "production_syncs_per_s": None,
                             "headroom": None, "steps": None, "not_applicable": None}
    if not judged:
        return {**empty, "not_applicable": f"profile {summary.get('profile')}: the 10x headroom is judged by the "
                                          "standard profile (it searches the week's capacity first)",
                "reason": "not judged by this profile"}
    result = latest_search_of(summary, root)
    if result is None or result.knee is None:
        return {**empty, "reason": f"no capacity search of this commit ({summary.get('git_sha')}) and week on this "
                                   f"machine; make one with `make capacity WEEK={summary.get('week')} PATH=mix`"}
    return {**empty, "run_id": result.run_id, "path": result.path, "knee_syncs_per_s": result.knee.syncs_per_s,
            "production_syncs_per_s": result.production.get("syncs_per_s"), "headroom": result.headroom,
            "steps": len(result.steps), "reason": describe_result(result)}


__all__ = ["headroom_figures", "latest_search_of"]
