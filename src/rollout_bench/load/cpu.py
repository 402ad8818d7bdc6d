"""CPU over the run, once a second (psutil): the machine as a whole, each process this run
started (pipeline roles, Locust), the harness itself and the local servers (postgres,
redis-server, nats-server). Tells a saturated machine or load generator from a slow
pipeline, and a run disturbed by other work on the machine (`foreign`: the machine's CPU
that none of those processes used) from one that had the machine to itself."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import psutil

from rollout_bench.load.background import BackgroundSampler
from rollout_bench.load.machine_events import void_run_reason

SERVER_NAMES = ("postgres", "redis-server", "nats-server")
SATURATED_PERCENT = 90.0
# Mean CPU of other work, in % of one core, above which a run is "disturbed": its latencies
# are not comparable with another run's (on this 2-core machine, 8 % of a core of other work
# already moved the median job latency by about 13 %; 85 % by a third; quiet runs read
# -4 to 0 %).
DISTURBED_CORE_PERCENT = 10.0


def _label(process: psutil.Process) -> str | None:
    try:
        name = process.name()
        if name in SERVER_NAMES:
            return name
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    text = " ".join(cmdline)
    if "locust" in text:
        return "locust"
    if process.pid == os.getpid():
        return "harness"
    if "--role" in cmdline:
        return f"pipeline-{cmdline[cmdline.index('--role') + 1]}"
    return None


@dataclass
class CpuSampler(BackgroundSampler):
    interval_s: float = 1.0
    machine: list[float] = field(default_factory=list)
    by_process: dict[str, list[float]] = field(default_factory=dict)
    foreign: list[float] = field(default_factory=list)  # % of one core used by no process of the run
    _cpu_seconds: dict[int, float] = field(default_factory=dict)  # pid -> CPU time at the last sample
    _previous_wall: float = 0.0
    thread_name: ClassVar[str] = "cpu-sampler"

    def __enter__(self) -> CpuSampler:
        psutil.cpu_percent(None)  # the first reading only starts psutil's interval
        self._previous_wall = time.time()
        for process in self._candidates():  # what ran before the sampler started is not this interval's
            self._cpu_used(process, new_counts=False)
        return super().__enter__()  # type: ignore[no-any-return]

    def _candidates(self) -> list[psutil.Process]:
        me = psutil.Process(os.getpid())
        found = [me, *me.children(recursive=True)]
        found += [p for p in psutil.process_iter(["name"]) if p.info["name"] in SERVER_NAMES]
        return found

    def _cpu_used(self, process: psutil.Process, new_counts: bool = True) -> float | None:
        """CPU seconds `process` used since the last sample. A process not seen at the last
        sample started since (the sampler saw every process of the run when it started), so
        all of its time counts. (psutil's create_time() cannot tell: boot time is whole seconds.)"""
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None
        used = times.user + times.system
        before = self._cpu_seconds.get(process.pid)
        self._cpu_seconds[process.pid] = used
        if before is None:
            return used if new_counts else 0.0
        return max(0.0, used - before)

    def _run(self) -> None:
        cores = psutil.cpu_count() or 1
        while not self._stop.wait(self.interval_s):
            machine = psutil.cpu_percent(None)
            now = time.time()
            elapsed = max(1e-3, now - self._previous_wall)
            self.machine.append(machine)
            totals: dict[str, float] = {}
            for process in self._candidates():
                used = self._cpu_used(process)
                if used is None:
                    continue
                label = _label(process) or "harness"  # any other child of the run is the harness's
                totals[label] = totals.get(label, 0.0) + 100.0 * used / elapsed
            self._previous_wall = now
            for label, percent in totals.items():
                self.by_process.setdefault(label, []).append(percent)
            self.foreign.append(machine * cores - sum(totals.values()))

    def summary(self) -> dict[str, Any]:
        """Mean and p95 CPU % per process (100 % = one core), the machine's (100 % = all
        cores) with the share of samples in which it was saturated, and the other work's
        (`foreign`, % of one core) with whether it `disturbed` the run."""
        def stats(values: list[float]) -> dict[str, float | int | None]:
            if not values:
                return {"samples": 0, "mean": None, "p95": None}
            ordered = sorted(values)
            return {"samples": len(values), "mean": round(statistics.fmean(values), 1),
                    "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)}

        saturated = sum(1 for v in self.machine if v >= SATURATED_PERCENT)
        foreign = stats(self.foreign)
        return {"cores": psutil.cpu_count(), "machine": stats(self.machine),
                "machine_saturated_share": round(saturated / len(self.machine), 3) if self.machine else None,
                "processes": {label: stats(values) for label, values in sorted(self.by_process.items())},
                "foreign": foreign,
                "disturbed": None if foreign["mean"] is None else foreign["mean"] > DISTURBED_CORE_PERCENT}


def foreign_mean(cpu: dict[str, Any]) -> float | None:
    """Mean CPU of other work (% of one core); for runs recorded before it was measured, the
    machine's mean less the means of the run's processes."""
    recorded = (cpu.get("foreign") or {}).get("mean")
    if recorded is not None:
        return float(recorded)
    machine, cores = (cpu.get("machine") or {}).get("mean"), cpu.get("cores")
    if machine is None or not cores:
        return None
    return float(machine) * int(cores) - sum(float(p.get("mean") or 0) for p in (cpu.get("processes") or {}).values())


def disturbance(summary: dict[str, Any]) -> str:
    """Why a run's latencies are not comparable with another's ('' when it had the machine
    to itself, or when nothing about its CPU was recorded): other work on the machine, or an
    event of the machine itself (load/machine_events.py)."""
    event = void_run_reason(summary)
    if event:
        return f"run {summary.get('run_id')}: {event}"
    foreign = foreign_mean(summary.get("cpu") or {})
    if foreign is None or foreign <= DISTURBED_CORE_PERCENT:
        return ""
    return (f"run {summary.get('run_id')}: the machine was busy with other work ({foreign:.0f} % of a core "
            f"on average, more than {DISTURBED_CORE_PERCENT:.0f} %)")
