"""pytest-benchmark results (`make bench`, saved with every round's time) kept with a release
as bench.json and shown next to the comparison.

Per benchmark: the median round of each side and their ratio; where both sides saved their
rounds (several), the 95 % interval and the one-sided p of the median by the same block
bootstrap as a run (statistics.py). One session a side says nothing of the spread between
sessions, so these rows are reported, never counted as regressions (verdict 'reported').
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from rollout_bench.compare.rows import Row
from rollout_bench.compare.statistics import compare_figures, run_figures

BENCH_FILE = "bench.json"


def latest_bench(root: Path) -> Path | None:
    """The newest pytest-benchmark JSON under results/bench."""
    found = sorted((root / "bench").glob("**/*.json"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def read_bench(directory: Path) -> dict[str, dict[str, Any]]:
    """benchmark name -> {'median': s, 'rounds': n, 'data': [s, ...] or []}; {} without bench.json."""
    path = directory / BENCH_FILE
    if not path.is_file():
        return {}
    document = json.loads(path.read_text())
    out = {}
    for bench in document.get("benchmarks", []):
        stats = bench.get("stats", {})
        out[str(bench.get("fullname") or bench.get("name"))] = {
            "median": stats.get("median"), "rounds": stats.get("rounds"), "data": stats.get("data") or []}
    return out


def bench_rows(base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]) -> list[Row]:
    rows = []
    for name in sorted(set(base) & set(head)):
        b, h = base[name], head[name]
        if not b["median"] or not h["median"]:
            continue
        ratio, low, high, p, note = h["median"] / b["median"], None, None, None, "one session a side"
        fb, fh = run_figures(b["data"], [0.5]), run_figures(h["data"], [0.5])
        if fb and fh:
            test = compare_figures(fb, fh)
            ratio, low, high, p = test.ratio, test.ci_low, test.ci_high, test.p_regression
            note = f"{b['rounds']}/{h['rounds']} rounds; one session a side: spread between sessions unknown"
        rows.append(Row(f"bench {name.split('::')[-1]}", "-", "median", b["median"], h["median"],
                        None if math.isinf(ratio) else float(np.round(ratio, 6)), low, high, p, "reported",
                        "1/1", note))
    return rows


__all__ = ["BENCH_FILE", "bench_rows", "latest_bench", "read_bench"]
