"""Which process a recorded pid is: its start in seconds after boot.

psutil's `create_time()` is the boot time plus that offset, and Linux derives the boot time
from the wall clock (`btime` = now - uptime), so every process's create_time moves when the
wall clock steps; a virtual machine restored from a snapshot steps it (seen here: the kernel
logs "crng reseeded due to virtual machine fork", and afterwards a runner took its own
Redis for another process and never stopped it). The offset itself, field 22 of
/proc/<pid>/stat in clock ticks, does not move. A recorded pid whose start differs from
the recorded one is another process that reused the pid."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

START_TOLERANCE_S = 0.02  # two clock ticks at the usual 100 Hz


def started_after_boot_s(pid: int) -> float:
    """Seconds from boot to the start of `pid`; psutil.NoSuchProcess when there is none.
    Off Linux (no /proc), psutil's create_time, the best there is."""
    stat = Path(f"/proc/{pid}/stat")
    if not Path("/proc/self/stat").exists():
        return float(psutil.Process(pid).create_time())
    try:
        text = stat.read_text()
    except (FileNotFoundError, ProcessLookupError):
        raise psutil.NoSuchProcess(pid) from None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) ": the name may hold spaces
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of the whole line


def is_same_process(pid: int, recorded_start_s: float | None) -> bool:
    """Whether `pid` is running and is the process that started at `recorded_start_s`
    (None: nothing was recorded, so any process with that pid)."""
    try:
        start = started_after_boot_s(pid)
    except psutil.NoSuchProcess:
        return False
    return recorded_start_s is None or abs(start - recorded_start_s) <= START_TOLERANCE_S


def boot_id() -> str:
    """This boot's id ('' off Linux): a pid recorded in another boot is never this boot's process
    (a snapshot restore keeps the id; a reboot changes it)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
