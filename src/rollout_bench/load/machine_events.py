"""Events of the machine itself that make a run's timings worthless, whatever its load: the
virtual machine was snapshotted or cloned (Linux logs "crng reseeded due to virtual machine
fork" when the VM generation id changes), or the wall clock stepped. Latency is a
difference of wall-clock timestamps taken by different processes, so a step shifts every
job in flight; after a snapshot the guest also starts from cold caches. Seen here: a VM
fork in the middle of a capacity search turned a 7 ms no-op-worker floor into 93 ms and
the generator's lateness p99 into 200 ms for the rest of the search, with the CPU quiet.

A mark is read before the load and again after it; `events_between` says what happened in
between, and `disturbance_reason` turns that into the same kind of sentence as other work
on the machine does (load/cpu.py): the run is not compared or stored as a baseline."""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from typing import Any

VM_FORK_TEXT = "virtual machine fork"
WALL_CLOCK_STEP_LIMIT_MS = 100.0  # NTP slews far slower than this over one run; a restore steps by seconds


@dataclass(frozen=True)
class MachineMark:
    wall_minus_monotonic_s: float
    last_vm_fork_seq: int | None  # the kernel log's sequence number of the latest fork; -1 none; None unreadable


def kernel_log_records(path: str = "/dev/kmsg") -> list[tuple[int, str]] | None:
    """(sequence number, message) of every record still in the kernel's log; None when the
    log cannot be read (not Linux, or not allowed: dmesg_restrict)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    records: list[tuple[int, str]] = []
    try:
        while True:
            try:
                chunk = os.read(fd, 8192)
            except BlockingIOError:
                break  # the end of the log
            except OSError as exc:
                if exc.errno == errno.EPIPE:
                    continue  # records were overwritten while reading: go on with the next
                return None
            if not chunk:
                break
            prefix, _, message = chunk.decode("utf-8", "replace").partition(";")
            fields = prefix.split(",")
            if len(fields) >= 2 and fields[1].isdigit():
                records.append((int(fields[1]), message.split("\n", 1)[0]))
    finally:
        os.close(fd)
    return records


def read_mark(records: list[tuple[int, str]] | None = None) -> MachineMark:
    found = kernel_log_records() if records is None else records
    last_fork = None if found is None else max((seq for seq, text in found if VM_FORK_TEXT in text), default=-1)
    return MachineMark(time.time() - time.monotonic(), last_fork)


def events_between(start: MachineMark, end: MachineMark) -> dict[str, Any]:
    """{"vm_fork": True/False (None: the kernel log could not be read), "wall_clock_step_ms": x}."""
    unreadable = start.last_vm_fork_seq is None or end.last_vm_fork_seq is None
    step_ms = round((end.wall_minus_monotonic_s - start.wall_minus_monotonic_s) * 1000.0, 3) + 0.0  # no -0.0
    return {"vm_fork": None if unreadable else end.last_vm_fork_seq != start.last_vm_fork_seq,
            "wall_clock_step_ms": step_ms}


def disturbance_reason(events: dict[str, Any] | None) -> str:
    """Why these events make the run's timings incomparable ('' when nothing happened or
    nothing was recorded)."""
    if not events:
        return ""
    if events.get("vm_fork"):
        return "the virtual machine was snapshotted or cloned during the run (kernel log: virtual machine fork)"
    step = float(events.get("wall_clock_step_ms") or 0.0)
    if abs(step) > WALL_CLOCK_STEP_LIMIT_MS:
        return f"the wall clock stepped by {step:+.0f} ms during the run (more than {WALL_CLOCK_STEP_LIMIT_MS:.0f} ms)"
    return ""


def void_run_reason(summary: dict[str, Any]) -> str:
    """Why a run of a series is void and is run again ('' when it counts): an event of the
    machine itself, which nothing in the pipeline can cause. Other work on the machine is
    not a reason: that run stays in the series, disturbed (load/cpu.py)."""
    return disturbance_reason((summary.get("clock") or {}).get("machine_events"))
