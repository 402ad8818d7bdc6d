"""The new path's knee over legacy's: `make capacity PATH=legacy` then `PATH=unified` (either
order). When this run is one of the two and results/runs holds a capacity.json of the other
path from the same machine (host, CPU model, cores) and the same git sha (a tree dirty in
both is compared as is: say so), the latest such run gives the ratio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rollout_bench.capacity.result import CapacityResult

RESULT_FILE = "capacity.json"
SAME_MACHINE = ("hostname", "cpu_model", "cpus")
PAIR = ("unified", "legacy")


def _same_context(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    machine, other = mine.get("machine", {}), theirs.get("machine", {})
    return mine.get("git_sha") == theirs.get("git_sha") and all(machine.get(k) == other.get(k) for k in SAME_MACHINE)


def path_ratio(result: CapacityResult, runs_dir: Path) -> dict[str, Any] | None:
    if result.path not in PAIR or result.knee is None:
        return None
    other_path = PAIR[1 - PAIR.index(result.path)]
    for folder in sorted(runs_dir.glob("*"), reverse=True):
        found = folder / RESULT_FILE
        if folder.name == result.run_id or not found.is_file():
            continue
        data = json.loads(found.read_text())
        if data.get("path") != other_path or not data.get("knee") or not _same_context(result.context,
                                                                                      data.get("context", {})):
            continue
        knees = {result.path: (result.knee.syncs_per_s, result.run_id),
                 other_path: (float(data["knee"]["syncs_per_s"]), str(data["run_id"]))}
        ratio = knees["unified"][0] / knees["legacy"][0]
        dirty = " (a dirty tree: uncommitted changes are not compared)" if result.context.get("dirty") else ""
        words = (f"new path / legacy knee: {ratio:.3g}x (new path {knees['unified'][0]:g} syncs/s in run "
                 f"{knees['unified'][1]}, legacy {knees['legacy'][0]:g} syncs/s in run {knees['legacy'][1]}; same "
                 f"machine, git sha {str(result.context.get('git_sha'))[:12]}{dirty})")
        return {"ratio": round(ratio, 3), "unified_knee": knees["unified"][0], "legacy_knee": knees["legacy"][0],
                "unified_run": knees["unified"][1], "legacy_run": knees["legacy"][1], "words": words}
    return None
