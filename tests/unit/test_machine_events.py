"""Events of the machine itself spoil a run's timings: a VM snapshot or clone (the kernel's
"virtual machine fork" record) or a step of the wall clock make the run disturbed, and a
capacity step with one is undecided."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rollout_bench.capacity.criteria import machine_check
from rollout_bench.load import machine_events as events
from rollout_bench.load.cpu import disturbance

FORK = "random: crng reseeded due to virtual machine fork"


def test_a_fork_between_the_marks_is_seen_and_an_old_one_is_not() -> None:
    before = events.read_mark([(1, "Linux version 6.1"), (7, FORK), (9, "eth0: link up")])
    same = events.read_mark([(7, FORK), (9, "eth0: link up"), (12, "something else")])
    forked = events.read_mark([(7, FORK), (20, FORK)])
    assert events.events_between(before, same)["vm_fork"] is False
    assert events.events_between(before, forked)["vm_fork"] is True
    assert events.events_between(events.read_mark([]), events.read_mark([(3, FORK)]))["vm_fork"] is True


def test_an_unreadable_kernel_log_is_no_evidence_either_way(tmp_path: Path) -> None:
    assert events.kernel_log_records(str(tmp_path / "missing")) is None
    start = events.MachineMark(100.0, None)
    found = events.events_between(start, events.MachineMark(100.0, 5))
    assert found["vm_fork"] is None and events.disturbance_reason(found) == ""


def test_a_wall_clock_step_beyond_the_limit_disturbs() -> None:
    start = events.MachineMark(1000.0, -1)
    slewed = events.events_between(start, events.MachineMark(1000.0 + 0.05, -1))
    stepped = events.events_between(start, events.MachineMark(1000.0 - 2.5, -1))
    assert slewed["wall_clock_step_ms"] == pytest.approx(50.0) and events.disturbance_reason(slewed) == ""
    assert "stepped by -2500 ms" in events.disturbance_reason(stepped)


def test_a_run_with_a_vm_fork_is_disturbed_even_on_a_quiet_machine() -> None:
    summary = {"run_id": "r1", "cpu": {"cores": 2, "machine": {"mean": 1.0}, "processes": {}},
               "clock": {"machine_events": {"vm_fork": True, "wall_clock_step_ms": 0.0}}}
    assert disturbance(summary).startswith("run r1: the virtual machine was snapshotted")
    summary["clock"]["machine_events"] = {"vm_fork": False, "wall_clock_step_ms": 0.2}
    assert disturbance(summary) == ""
    del summary["clock"]  # results of earlier versions
    assert disturbance(summary) == ""


def test_a_capacity_step_with_a_machine_event_is_undecided() -> None:
    assert machine_check({"vm_fork": True, "wall_clock_step_ms": 0.0}).passed is None
    assert machine_check({"vm_fork": False, "wall_clock_step_ms": 0.3}).passed is True
    assert machine_check({"vm_fork": None, "wall_clock_step_ms": 0.3}).passed is True


def test_this_machines_kernel_log_reads_when_allowed() -> None:
    if not os.access("/dev/kmsg", os.R_OK):
        pytest.skip("/dev/kmsg is not readable here (not Linux, or dmesg_restrict without root)")
    records = events.kernel_log_records()
    assert records, "the kernel log was readable but gave no record"
    sequences = [seq for seq, _ in records]
    assert sequences == sorted(sequences)


def test_a_series_runs_again_only_a_run_the_machine_spoiled() -> None:
    """Seen in CI here: a VM fork, then the clock corrected in steps of 506 and 268 ms over
    the next runs, each with generator lateness of about the step."""
    forked = {"clock": {"machine_events": {"vm_fork": True, "wall_clock_step_ms": 3987.1}}}
    stepped = {"clock": {"machine_events": {"vm_fork": False, "wall_clock_step_ms": 268.0}}}
    busy = {"run_id": "r", "cpu": {"cores": 2, "machine": {"mean": 90.0}, "processes": {}},
            "clock": {"machine_events": {"vm_fork": False, "wall_clock_step_ms": 0.0}}}
    assert "snapshotted" in events.void_run_reason(forked)
    assert "stepped by +268 ms" in events.void_run_reason(stepped)
    assert events.void_run_reason(busy) == "" and disturbance(busy)  # other work: disturbed, not void
    assert events.void_run_reason({}) == ""
