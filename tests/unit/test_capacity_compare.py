"""Capacity results across releases, on synthetic results built from capacity/result.py's
dataclasses: the knee's interval (bracket and repeats), the verdict (a change only when
the intervals are apart AND the ratio passes the factor), the context refusal, the one-line
description, storing with a release, and the trend plot."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from rollout_bench.capacity.compare import capacity_rows, compare_capacity, knee_interval
from rollout_bench.capacity.describe import describe_result, render_capacity
from rollout_bench.capacity.result import CapacityResult, Check, Knee, StepResult
from rollout_bench.capacity.stored import latest_release_like, releases_like, resolve_capacity, stored_releases
from rollout_bench.capacity.trend import capacity_trend_plot
from rollout_bench.errors import UserError
from rollout_bench.results.store import run_dir, store_baseline, write_json

CONTEXT: dict[str, Any] = {
    "release": "1.0.0", "git_sha": "abc", "stack": "embedded", "seed": 1,
    "machine": {"hostname": "vm", "cpus": 2, "cpu_model": "Xeon", "python": "3.11.7"},
    "servers": {"postgres": "18.6", "redis": "6.2.14", "nats": "2.15.1"}, "libraries": {"scipy": "1.17.1"}}
PRODUCTION = {"syncs_per_s": 0.0556, "jobs_per_s": 0.278}


def step(rate: float, sustainable: bool, jobs_per_sync: float = 5.0, repeat_of: float | None = None) -> StepResult:
    checks = [Check("latency", sustainable, f"p99 upper bound {'412' if sustainable else '1830'} ms (n=1210)", 1210),
              Check("backlog_depth", True, "slope 0.01/s, p=0.4", 60)]
    return StepResult(rate, rate * jobs_per_sync, 30.0, rate * jobs_per_sync if sustainable else rate * 4.0,
                      {"count": 1210}, {}, {}, {}, checks, repeat_of)


def result(knee: float | None, high: float | None = None, *, path: str = "unified", week: int = 5, workers: int = 1,
           arrivals: str = "poisson", jobs_per_sync: float = 5.0, repeats: tuple[int, int] = (2, 2),
           run_id: str = "20260101T000000Z-aaaaaa", started_at: str = "2026-01-01T00:00:00+00:00",
           bottleneck: dict[str, Any] | None = None, **context: Any) -> CapacityResult:
    """A search that grew to `knee` (sustainable), failed at `high`, and repeated the knee's
    rate `repeats[1]` times of which `repeats[0]` were sustainable. knee None: the first step
    (at `high`) failed."""
    if knee is None:
        assert high is not None
        steps, found = [step(high, False, jobs_per_sync)], None
    else:
        steps = [step(knee / 2, True, jobs_per_sync), step(knee, True, jobs_per_sync)]
        steps += [step(high, False, jobs_per_sync)] if high is not None else []
        steps += [step(knee, i < repeats[0], jobs_per_sync, repeat_of=knee) for i in range(repeats[1])]
        found = Knee(knee, knee * jobs_per_sync, (knee, high), repeats[0], repeats[1])
    return CapacityResult(run_id, path, week, workers, arrivals, {**CONTEXT, **context},
                          {"latency_target_ms": 1000, "quantile": 0.99}, steps, found,
                          bottleneck if bottleneck is not None else {"resource": "worker-0", "percent": 97.0},
                          dict(PRODUCTION), started_at=started_at)


def test_the_knee_interval_is_the_bracket_widened_by_failed_repeats() -> None:
    interval = knee_interval(result(12.0, 13.2))
    assert interval is not None and (interval.low, interval.knee, interval.high) == (12.0, 12.0, 13.2)
    assert interval.jobs_per_sync == 5.0 and interval.note == ""
    shaky = knee_interval(result(12.0, 13.2, repeats=(1, 2)))
    assert shaky is not None and shaky.low == 6.0  # the highest rate sustained every time it ran
    assert shaky.note == "knee's repeats 1/2 sustainable: interval from 6.0 syncs/s"
    once = knee_interval(result(12.0, 13.2, repeats=(0, 0)))
    assert once is not None and once.note == "knee not repeated: its run-to-run spread is unknown"
    none = knee_interval(result(None, 2.0))
    assert none is not None and (none.low, none.knee, none.high) == (0.0, None, 2.0)


@pytest.mark.parametrize(("base", "head", "verdict"), [
    ((12.0, 13.2), (12.0, 13.2), "no change"),
    ((12.0, 13.2), (9.6, 10.5), "regression"),  # x0.80, intervals apart
    ((12.0, 13.2), (14.4, 15.8), "improvement"),  # x1.20, intervals apart
    ((12.0, 13.2), (9.6, 12.5), "not significant"),  # x0.80, but the head's bracket reaches into the base's
    ((12.0, 12.2), (11.4, 11.6), "no change"),  # x0.95: apart, but within the factor
    ((12.0, None), (14.4, 15.8), "not significant"),  # x1.20, but the base never failed: only a lower bound
    ((12.0, None), (9.6, 10.5), "regression"),  # x0.80: the base sustained 12, the head failed at 10.5
])
def test_a_change_needs_intervals_apart_and_a_ratio_beyond_the_factor(
        base: tuple[float, float | None], head: tuple[float, float | None], verdict: str) -> None:
    (row,) = capacity_rows([result(*base)], [result(*head)])
    assert row.verdict == verdict
    assert row.ratio == pytest.approx(head[0] / base[0])
    if verdict == "no change" and base != head:
        assert row.note.startswith("intervals apart, change within x1.1")


def test_failed_repeats_make_a_real_drop_not_significant() -> None:
    """Head's knee 20 % lower with a tight bracket, but one of its two repeats at the knee
    failed: its capacity may be as low as its previous solid step, and the base's interval
    reaches it only if it is wide: here it is not, so the drop stays a regression, and a
    base whose own repeats failed makes it not significant."""
    (row,) = capacity_rows([result(12.0, 13.2)], [result(9.6, 10.5, repeats=(1, 2))])
    assert row.verdict == "regression" and "head: knee's repeats 1/2 sustainable" in row.note
    (row,) = capacity_rows([result(12.0, 13.2, repeats=(1, 2))], [result(9.6, 10.5)])
    assert row.verdict == "not significant" and row.note.startswith("the intervals overlap")


def test_no_knee_on_one_side() -> None:
    (row,) = capacity_rows([result(12.0, 13.2)], [result(None, 2.0)])
    assert row.verdict == "regression" and row.ratio is None and row.note.startswith("head found no knee")
    (row,) = capacity_rows([result(12.0, 13.2)], [result(None, 12.5)])
    assert row.verdict == "not significant"  # below 12.5 is not necessarily below 12.0 / 1.1
    (row,) = capacity_rows([result(None, 2.0)], [result(None, 2.0)])
    assert row.verdict == "no knee"


def test_results_pair_by_path_week_workers_and_arrivals_and_repeated_searches_pool() -> None:
    base = [result(12.0, 13.2), result(12.6, 13.8, run_id="b2"), result(2.0, 2.2, path="legacy", run_id="b3")]
    head = [result(12.3, 13.5, run_id="h1"), result(12.0, 13.2, workers=2, run_id="h2")]
    rows = {(r.path, r.workers): r for r in capacity_rows(base, head)}
    unified = rows[("unified", 1)]
    assert unified.base is not None and unified.base.results == 2
    assert unified.base.knee == pytest.approx(12.3) and (unified.base.low, unified.base.high) == (12.0, 13.8)
    assert unified.verdict == "no change"
    assert rows[("legacy", 1)].verdict == "no data" and rows[("legacy", 1)].note == "only in the base"
    assert rows[("unified", 2)].note == "only in the head"


@pytest.mark.parametrize(("change", "refusing"), [
    ({"machine": {**CONTEXT["machine"], "hostname": "other"}}, "machine.hostname: 'vm' vs 'other'"),
    ({"stack": "external"}, "stack: 'embedded' vs 'external'"),
    ({"servers": {**CONTEXT["servers"], "postgres": "15.4"}}, "servers.postgres.major: '18' vs '15'"),
    ({"path": "legacy"}, "path: 'unified' vs 'legacy'"),
    ({"workers": 2}, "workers: 1 vs 2"),
])
def test_another_context_is_refused_in_one_line_unless_forced(change: dict[str, Any], refusing: str) -> None:
    keys = {k: change.pop(k) for k in ("path", "workers") if k in change}
    head = result(9.6, 10.5, run_id="h", **keys, **change)
    with pytest.raises(UserError) as raised:
        compare_capacity([result(12.0, 13.2)], [head])
    assert refusing in str(raised.value) and "\n" not in str(raised.value) and "--force" in str(raised.value)
    forced = compare_capacity([result(12.0, 13.2)], [head], force=True)
    assert refusing in forced.refusing and forced.rows[0].verdict == "regression"


def test_listed_differences_do_not_refuse_and_the_comparison_renders() -> None:
    comparison = compare_capacity([result(12.0, 13.2)], [result(9.6, 10.5, git_sha="def", run_id="h")])
    assert comparison.refusing == [] and "git_sha: 'abc' vs 'def'" in comparison.other_differences
    assert len(comparison.regressions) == 1
    text = render_capacity(comparison)
    assert "12.0 [12.0-13.2] (1)" in text and "9.6 [9.6-10.5] (1)" in text and "1 regression(s)" in text
    assert json.loads(json.dumps(comparison.to_dict()))["rows"][0]["verdict"] == "regression"
    with pytest.raises(UserError, match="capacity factor 1.0 is not allowed"):
        compare_capacity([result(12.0, 13.2)], [result(12.0, 13.2)], factor=1.0)


def test_one_line_description_for_the_report() -> None:
    assert describe_result(result(12.0, 13.2, repeats=(2, 2))) == (
        "unified, week 5, 1 worker: knee 12.0 syncs/s (60 jobs/s), bracket 12.0-13.2, repeated 2/2 sustainable, "
        "headroom 216x, bottleneck worker-0 (97 % CPU)")
    assert describe_result(result(0.5, None, workers=4, repeats=(0, 0), bottleneck={})) == (
        "unified, week 5, 4 workers: knee 0.5 syncs/s (2.5 jobs/s), bracket 0.5-?, not repeated, headroom 9x, "
        "bottleneck not measured")
    assert describe_result(result(None, 2.0)) == (
        "unified, week 5, 1 worker: no knee: no sustainable step: capacity below 2.0 syncs/s "
        "(latency: p99 upper bound 1830 ms (n=1210))")


def _capacity_run(root: Path, capacity: CapacityResult) -> Path:
    folder = run_dir(capacity.run_id, root)
    write_json(folder / "capacity.json", capacity.to_dict())
    return folder


def test_capacity_results_are_stored_with_a_release_and_drawn_across_releases(tmp_path: Path) -> None:
    knees = {"1.0.0": (12.0, 13.2), "1.1.0": (12.3, 13.5), "1.2.0": (9.6, 10.5)}
    for number, (release, (knee, high)) in enumerate(knees.items()):
        run = _capacity_run(tmp_path, result(knee, high, run_id=f"2026010{number}T000000Z-cccccc",
                                             started_at=f"2026-01-0{number + 1}T00:00:00+00:00"))
        store_baseline([run], release, root=tmp_path)
    assert (tmp_path / "releases" / "1.2.0" / "runs" / "20260102T000000Z-cccccc" / "capacity.json").is_file()
    other = _capacity_run(tmp_path, result(30.0, 33.0, run_id="20260109T000000Z-dddddd", stack="external",
                                           started_at="2026-01-09T00:00:00+00:00"))
    store_baseline([other], "1.3.0-ci", root=tmp_path)
    with pytest.raises(UserError, match=r"has no samples.json.gz \(nor a capacity result\)"):
        store_baseline([run_dir("20260111T000000Z-eeeeee", tmp_path)], "2.0.0", root=tmp_path)
    assert [name for name, _ in stored_releases(tmp_path)] == ["1.0.0", "1.1.0", "1.2.0", "1.3.0-ci"]
    name, found = resolve_capacity("1.1.0", tmp_path)
    assert name == "1.1.0" and found[0].knee is not None and found[0].knee.syncs_per_s == 12.3
    assert resolve_capacity("20260102T000000Z-cccccc", tmp_path)[1][0].run_id == "20260102T000000Z-cccccc"
    with pytest.raises(UserError, match="holds no capacity result"):
        resolve_capacity("9.9.9", tmp_path)
    head = result(9.7, 10.6, run_id="head", started_at="2026-01-10T00:00:00+00:00")
    like = releases_like(head, tmp_path)
    assert [name for name, _ in like] == ["1.0.0", "1.1.0", "1.2.0"]  # 1.3.0-ci ran on another stack
    latest = latest_release_like(head, tmp_path)
    assert latest is not None and latest[0] == "1.2.0"
    steps = [capacity_rows(a, b)[0].verdict for (_, a), (_, b) in pairwise(like)]
    assert steps == ["no change", "regression"]
    plot = capacity_trend_plot(like, tmp_path / "capacity-trend.png")
    assert plot is not None and plot.stat().st_size > 10_000
    assert capacity_trend_plot([], tmp_path / "empty.png") is None
