"""How the gradual-rollback drill counts analyses per sync: exactly once, or, for a sync in
flight at a switch (enqueued before a restart with new flags, analysed after its stop
began), any analysis, counted with its shape; everything else not exactly once fails. The
shapes at a switch were all seen in the drill on this machine (2 of 5 runs)."""

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
    assert analyses_per_sync(rows, {"s1", "s2"}, SWITCH, {"s1": 45.0, "s2": 55.0}) == {
        "once": 2, "in_flight_at_switch": 0, "missing": 0, "both_paths": 0, "twice": 0, "partial": 0}


def test_the_shapes_seen_at_a_switch_are_counted_apart() -> None:
    rows = (_legacy("s1", 101.0, ("license",)) + _unified("s1", 110.0)  # flushed, then the new path
            + _legacy("s2", 101.0, ("policy",)) + _legacy("s2", 108.0)  # flushed, then legacy again
            + _unified("s3", 103.5) + _legacy("s3", 104.5)  # settle loop and handed-over rest, both after
            + _legacy("s4", 101.0, ("mfa", "policy", "license")))  # only the flushed analyzers
    result = analyses_per_sync(rows, {"s1", "s2", "s3", "s4"}, SWITCH, {s: 99.0 for s in ("s1", "s2", "s3", "s4")})
    assert result["in_flight_at_switch"] == 4 and result["once"] == 0
    assert all("in flight at a switch" in e for e in result["examples"])


def test_the_same_shapes_away_from_a_switch_fail() -> None:
    rows = _legacy("s1", 20.0, ("license",)) + _unified("s1", 30.0) + _legacy("s2", 20.0, ("policy",)) \
        + _legacy("s2", 40.0) + _legacy("s3", 20.0, ("mfa",))
    enqueued = {"s1": 10.0, "s2": 10.0, "s3": 10.0}
    result = analyses_per_sync(rows, {"s1", "s2", "s3"}, SWITCH, enqueued)
    assert (result["both_paths"], result["twice"], result["partial"], result["in_flight_at_switch"]) == (1, 1, 1, 0)
    assert analyses_per_sync(rows, {"s1", "s2", "s3"})["in_flight_at_switch"] == 0  # no switch given


def test_a_sync_enqueued_after_the_restart_is_not_in_flight_at_it() -> None:
    rows = _unified("s1", 103.5) + _legacy("s1", 104.5)
    assert analyses_per_sync(rows, {"s1"}, SWITCH, {"s1": 103.0})["both_paths"] == 1
    assert analyses_per_sync(rows, {"s1"}, SWITCH, {"s1": 99.0})["in_flight_at_switch"] == 1


def test_a_sync_never_analysed_fails_even_at_a_switch() -> None:
    assert analyses_per_sync([], {"s1"}, SWITCH, {"s1": 99.0})["missing"] == 1
