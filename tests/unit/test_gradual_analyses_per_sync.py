"""How the gradual-rollback drill counts analyses per sync: exactly once, or again at a
switch (a stopping legacy analyzer runs what it is still debouncing; the restarted pipeline
completes the sync on the new path), and every other shape a failure. Both shapes of the
switch were seen in the drill on this machine (2 of 5 runs)."""

from __future__ import annotations

from rollout_bench.drills.gradual_evidence import analyses_per_sync

LEGACY = ("mfa", "policy", "license", "stale")
SWITCH = [(100.0, 102.0)]  # stop began, restarted


def _legacy(sync: str, at: float, analyzers: tuple[str, ...] = LEGACY) -> list[tuple[str, str, str, str, float]]:
    return [("t", sync, "legacy", a, at) for a in analyzers]


def _unified(sync: str, at: float) -> list[tuple[str, str, str, str, float]]:
    return [("t", sync, "unified", "unified", at)]


def test_once_on_either_path() -> None:
    rows = _legacy("s1", 50.0) + _unified("s2", 60.0)
    assert analyses_per_sync(rows, {"s1", "s2"}, SWITCH) == {
        "once": 2, "again_at_switch": 0, "missing": 0, "both_paths": 0, "twice": 0, "partial": 0}


def test_a_flushed_legacy_analysis_then_the_new_path_is_again_at_a_switch() -> None:
    rows = _legacy("s1", 101.0, ("license",)) + _unified("s1", 110.0)  # seen: drill-00051
    result = analyses_per_sync(rows, {"s1"}, SWITCH)
    assert result["again_at_switch"] == 1 and result["once"] == 0 and result["examples"]


def test_a_legacy_analyzer_again_after_a_restart_is_again_at_a_switch() -> None:
    rows = _legacy("s1", 101.0, ("policy",)) + _legacy("s1", 108.0)
    assert analyses_per_sync(rows, {"s1"}, SWITCH)["again_at_switch"] == 1


def test_the_same_shapes_away_from_a_switch_fail() -> None:
    rows = _legacy("s1", 20.0, ("license",)) + _unified("s1", 30.0) + _legacy("s2", 20.0, ("policy",)) \
        + _legacy("s2", 40.0)
    result = analyses_per_sync(rows, {"s1", "s2"}, SWITCH)
    assert (result["both_paths"], result["twice"], result["again_at_switch"]) == (1, 1, 0)
    assert analyses_per_sync(rows, {"s1", "s2"})["again_at_switch"] == 0  # no switch given


def test_an_incomplete_last_path_or_a_missing_sync_fails_even_at_a_switch() -> None:
    rows = _unified("s1", 101.0) + _legacy("s1", 110.0, ("mfa", "policy"))  # legacy never completed
    result = analyses_per_sync(rows, {"s1", "s2"}, SWITCH)
    assert (result["both_paths"], result["missing"], result["again_at_switch"]) == (1, 1, 0)


def test_a_sync_in_flight_at_a_switch_finished_by_both_analyzers_is_again_at_a_switch() -> None:
    """Seen: drill-00010, enqueued before the switch; the restarted unified analyzer's settle
    loop finished what it had tracked, and legacy analysed the handed-over rest, both after."""
    rows = _unified("s1", 103.5) + _legacy("s1", 104.5)
    assert analyses_per_sync(rows, {"s1"}, SWITCH, {"s1": 99.0})["again_at_switch"] == 1
    assert analyses_per_sync(rows, {"s1"}, SWITCH, {"s1": 103.0})["both_paths"] == 1  # enqueued after it
