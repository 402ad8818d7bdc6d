"""What each resource did during a capacity step, once a second (a background thread), and
which one was busiest: the bottleneck the output names ("worker-0 at 98 % of a core").

Sampled: the CPU of each process the step started, by name (pipeline roles as the
supervisor names them, worker-0, worker-1, ...; the no-op floor workers; the Locust
generator with its own children), the Postgres backends of the run's database (psutil on
the pids pg_stat_activity lists, with the wait events of the active ones), Redis from its
own INFO cpu counters (the whole server: on a shared Redis that includes other clients),
nats-server, and the machine. 100 % is one core; the machine's figure is of all cores.
Other work: the machine's CPU that none of the run's processes (those above, the harness,
every postgres / redis-server / nats-server process) used, as load/cpu.py counts it; above
DISTURBED_CORE_PERCENT the step was disturbed."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import psutil
import psycopg
import redis

from rollout_bench.load.background import BackgroundSampler
from rollout_bench.load.cpu import DISTURBED_CORE_PERCENT, SATURATED_PERCENT, SERVER_NAMES
from rollout_bench.sql import load

GENERATOR, POSTGRES, REDIS, NATS = "generator", "postgres", "redis-server (all clients)", "nats-server"
PROCESS_ERRORS = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)


@dataclass
class ResourceSample:
    at: float  # epoch seconds
    machine_percent: float
    by_name: dict[str, float]
    postgres_backends: int
    wait_events: dict[str, int]
    other_work_percent: float | None  # the machine's CPU (% of one core) none of the run's processes used


@dataclass
class ResourceSampler(BackgroundSampler):
    processes: Callable[[], dict[str, int]]  # name -> pid of what the step started
    database_url: str
    redis_url: str
    interval_s: float = 1.0
    samples: list[ResourceSample] = field(default_factory=list)
    error: str = ""
    _known: dict[int, psutil.Process] = field(default_factory=dict, init=False, repr=False)
    _redis_cpu: tuple[float, float] | None = field(default=None, init=False, repr=False)
    thread_name: ClassVar[str] = "resource-sampler"

    def __enter__(self) -> ResourceSampler:
        psutil.cpu_percent(None)
        return super().__enter__()  # type: ignore[no-any-return]

    def _percent(self, pid: int) -> float | None:
        """CPU % of one process since its last reading; None on the first (psutil's interval
        starts there) or when it is gone."""
        known = self._known.get(pid)
        try:
            if known is None:
                self._known[pid] = psutil.Process(pid)
                self._known[pid].cpu_percent(None)
                return None
            return float(known.cpu_percent(None))
        except PROCESS_ERRORS:
            return None

    @staticmethod
    def _total(readings: dict[int, float | None], pids: Iterable[int]) -> float | None:
        values = [readings[pid] for pid in set(pids) if readings.get(pid) is not None]
        return sum(values) if values else None  # type: ignore[arg-type]

    def _generator_pids(self) -> list[int]:
        with contextlib.suppress(*PROCESS_ERRORS):
            return [p.pid for p in psutil.Process(os.getpid()).children(recursive=True)
                    if "locust" in " ".join(p.cmdline())]
        return []

    def _redis_percent(self, client: redis.Redis) -> float | None:
        info = client.info("cpu")
        used = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        now, last = time.monotonic(), self._redis_cpu
        self._redis_cpu = (now, used)
        return None if last is None or now <= last[0] else 100 * (used - last[1]) / (now - last[0])

    def _run(self) -> None:
        try:
            self._sample_until_stopped()
        except BaseException as exc:  # evidence lost: say so, never read as idle
            self.error = f"{type(exc).__name__}: {exc}"
            raise

    def _sample_until_stopped(self) -> None:
        client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        cores = psutil.cpu_count() or 1
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            try:
                while True:
                    named, generator = self.processes(), self._generator_pids()
                    backends = conn.execute(load("capacity/database_backends")).fetchall()
                    servers = {p.pid: p.info["name"] for p in psutil.process_iter(["name"])
                               if p.info["name"] in SERVER_NAMES}
                    ours = {*named.values(), *generator, *servers, os.getpid()}
                    readings = {pid: self._percent(pid) for pid in ours | {int(pid) for pid, _ in backends}}
                    totals = {name: self._total(readings, [pid]) for name, pid in named.items()}
                    totals[GENERATOR] = self._total(readings, generator)
                    totals[POSTGRES] = self._total(readings, [int(pid) for pid, _wait in backends])
                    totals[NATS] = self._total(readings, [pid for pid, name in servers.items() if name == NATS])
                    totals[REDIS] = self._redis_percent(client)
                    machine = psutil.cpu_percent(None)
                    run_total = self._total(readings, ours)
                    waits = Counter(str(wait) for _pid, wait in backends if wait)
                    self.samples.append(ResourceSample(
                        time.time(), machine, {k: v for k, v in totals.items() if v is not None}, len(backends),
                        dict(waits), None if run_total is None else machine * cores - run_total))
                    if self._stop.wait(self.interval_s):
                        return
            finally:
                client.close()

    def summary(self, start: float, end: float) -> dict[str, Any]:
        """Means over the samples taken in [start, end] (the hold): CPU % per resource, the
        machine's, the Postgres backends and their wait events (samples seen in each)."""
        window = [s for s in self.samples if start <= s.at <= end]
        names = sorted({name for s in window for name in s.by_name})
        by_name = {name: round(statistics.fmean(s.by_name[name] for s in window if name in s.by_name), 1)
                   for name in names}
        waits: Counter[str] = Counter()
        for s in window:
            waits.update(s.wait_events)
        others = [s.other_work_percent for s in window if s.other_work_percent is not None]
        other_work = round(statistics.fmean(others), 1) if others else None
        return {"samples": len(window), "cores": psutil.cpu_count(), "sampler_error": self.error,
                "machine_percent": round(statistics.fmean(s.machine_percent for s in window), 1) if window else None,
                "other_work_percent": other_work,
                "disturbed": None if other_work is None else other_work > DISTURBED_CORE_PERCENT,
                "by_process": by_name,
                "postgres_backends": round(statistics.fmean(s.postgres_backends for s in window), 1) if window else None,
                "postgres_wait_events": dict(waits.most_common(5))}


def bottleneck(cpu: dict[str, Any]) -> dict[str, Any]:
    """The busiest resource of a step's CPU summary, in words."""
    by_process: dict[str, float] = cpu.get("by_process") or {}
    machine = cpu.get("machine_percent")
    if not by_process or machine is None:
        return {"resource": None, "percent": None, "machine_percent": machine,
                "words": "no resource samples in the hold (the sampler saw nothing)"}
    resource, percent = max(by_process.items(), key=lambda item: item[1])
    busiest = f"{resource} at {percent:.0f} % of a core"
    total = machine * int(cpu.get("cores") or 1)
    others = cpu.get("other_work_percent")
    others = max(0.0, total - sum(by_process.values())) if others is None else max(0.0, float(others))
    ours = total - others
    if percent >= SATURATED_PERCENT:
        words = busiest
    elif machine >= SATURATED_PERCENT:
        words = (f"the machine's {cpu.get('cores')} cores at {machine:.0f} % (busiest: {busiest}; this run "
                 f"{ours:.0f} % of a core, other work {others:.0f} %)")
    else:
        words = f"no resource saturated (busiest: {busiest}; machine {machine:.0f} %)"
    waits = cpu.get("postgres_wait_events") or {}
    if waits:
        top, seen = next(iter(waits.items()))
        words += f"; Postgres' most frequent wait: {top} ({seen} backend samples)"
    return {"resource": resource, "percent": percent, "machine_percent": machine, "this_run_percent": round(ours, 1),
            "other_work_percent": round(others, 1), "by_resource": dict(sorted(by_process.items(), key=lambda item: -item[1])), "words": words}
