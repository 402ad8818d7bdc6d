"""The load generator's own ceiling: the real Locust file with the `constant` shape, every
sync routed to the new path, against a Redis prefix of its own that no worker consumes.
Reports offered vs fired syncs/s and jobs/s, arrival lateness, dropped arrivals, the jobs
that really reached Redis and the CPU of the Locust processes; deletes its keys after.

`measure_generator` is what `rollout-bench generator` calls and what the capacity search
can call: whether one generator set-up (N Locust processes) holds a rate on this machine."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from msp_pipeline.contract.producer import SyncJobProducer
from msp_pipeline.model import ENTITY_TYPES
from rollout_bench.collect.bounds import upper_rank
from rollout_bench.collect.histograms import decode, summarize
from rollout_bench.errors import UserError
from rollout_bench.load.config import ARRIVALS, LoadConfig, Tenant
from rollout_bench.load.cpu import DISTURBED_CORE_PERCENT, CpuSampler, foreign_mean
from rollout_bench.load.locust import LoadResult, run_load
from rollout_bench.stack.orphans import record_redis_prefix
from rollout_bench.stack.urls import StackUrls

LATENESS_LIMIT_MS = 50.0
LATENESS_QUANTILE = 0.99
GENERATOR_TENANTS = 36  # tenant ids only: no worker reads them, routing needs none in Postgres
NEW_PATH_FLAGS = {"USE_BULLMQ": "true", "MIGRATION_PERCENTAGE": "100"}
SYNC_REQUEST = "sync-trigger"  # the name the arrival engine gives each sync's request (loadtests/arrivals.py)


@dataclass
class GeneratorResult:
    rate_syncs_per_s: float  # asked for
    duration_s: float
    processes: int
    arrivals: str
    planned: int
    fired: int
    dropped: int
    failed: int  # enqueues the server refused (Locust request failures)
    jobs_recorded: int  # jobs the generator recorded as enqueued (key and intended time)
    jobs_in_redis: int  # jobs found under the run's prefix afterwards
    offered: dict[str, float | None]  # {syncs_per_s, jobs_per_s}: the schedule
    fired_rate: dict[str, float | None]  # {syncs_per_s, jobs_per_s}: what was fired over the schedule
    jobs_per_s_per_process: float | None
    lateness_ms: dict[str, Any]  # {count, p50, p95, p99, max} and p99_upper (95 % bound)
    enqueue_ms: dict[str, Any]  # intended time -> enqueue acknowledged
    cpu: dict[str, Any]  # CpuSampler.summary(): `processes.locust` is every Locust process together
    held: bool | None  # None: no arrival fired, no evidence
    reasons: list[str]
    lateness_limit_ms: float = LATENESS_LIMIT_MS
    prefix: str = ""  # the run's own Redis prefix (its keys are deleted after)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def other_work(self) -> str:
        """The machine's CPU none of this run's processes used: a busy machine lowers the ceiling."""
        foreign = foreign_mean(self.cpu)
        if foreign is None:
            return "work on the machine: not measured"
        verdict = ("busy: this is the ceiling on a shared machine, not the generator's own"
                   if foreign > DISTURBED_CORE_PERCENT else "quiet")
        return f"work on the machine {foreign:.0f} % of a core on average ({verdict})"

    def lines(self) -> list[str]:
        """The human-readable report."""
        by_process = self.cpu.get("processes", {})
        cpu, redis_cpu = by_process.get("locust", {}), by_process.get("redis-server", {})
        late = self.lateness_ms
        verdict = {True: "HELD", False: "NOT HELD", None: "NO EVIDENCE"}[self.held]
        verdict_reason = (f": {'; '.join(self.reasons)}" if self.reasons else
                          f" (lateness p99 < {self.lateness_limit_ms:g} ms, nothing dropped or failed)")
        return [
            f"generator: {self.processes} Locust process(es), {self.arrivals} arrivals, {self.duration_s:g} s",
            (f"offered  {self.offered['syncs_per_s']} syncs/s, {self.offered['jobs_per_s']} jobs/s "
             f"({self.planned} syncs planned)"),
            (f"fired    {self.fired_rate['syncs_per_s']} syncs/s, {self.fired_rate['jobs_per_s']} jobs/s "
             f"({self.fired} fired, {self.dropped} dropped, {self.failed} failed); "
             f"{self.jobs_per_s_per_process} jobs/s per process"),
            f"jobs     {self.jobs_recorded} recorded, {self.jobs_in_redis} found in Redis",
            (f"lateness p50 {late.get('p50')} ms, p99 {late.get('p99')} ms (95 % upper bound "
             f"{late.get('p99_upper')} ms, n={late.get('count')}), max {late.get('max')} ms"),
            f"enqueue  p50 {self.enqueue_ms.get('p50')} ms, p99 {self.enqueue_ms.get('p99')} ms (from intended time)",
            (f"cpu      Locust (all its processes) {cpu.get('mean')} % mean, {cpu.get('p95')} % p95 (100 % = one "
             f"core; {cpu.get('samples', 0)} samples); redis-server {redis_cpu.get('mean')} %; machine "
             f"{self.cpu.get('machine', {}).get('mean')} % of {self.cpu.get('cores')} cores"),
            f"other    {self.other_work()}",
            f"verdict  {verdict}{verdict_reason}",
        ]


def histogram_upper_bound(histogram: HdrHistogram, quantile: float) -> float | None:
    """The distribution-free 95 % upper bound of a quantile (collect.bounds), read from an HDR
    histogram in microseconds: the upper-rank order statistic, at the top of its bucket.
    None when too few samples bound it (a p99 needs 299)."""
    count = int(histogram.get_total_count())
    rank = upper_rank(count, quantile)
    if rank is None:
        return None
    return float(histogram.get_value_at_percentile(100.0 * rank / count))


def judge(planned: int, fired: int, failed: int, jobs_recorded: int, jobs_in_redis: int | None,
          lateness: HdrHistogram, limit_ms: float) -> tuple[bool | None, list[str], float | None]:
    """Whether the generator held its schedule: the lateness p99's upper bound under the limit,
    nothing dropped or failed, and every recorded job found in Redis (when they were counted:
    a run whose worker consumes them cannot). Returns (held, reasons, the upper bound in ms)."""
    upper_us = histogram_upper_bound(lateness, LATENESS_QUANTILE)
    upper_ms = None if upper_us is None else round(upper_us / 1000, 3)
    count = int(lateness.get_total_count())
    reasons: list[str] = []
    if planned - fired > 0:
        reasons.append(f"{planned - fired} of {planned} arrivals dropped")
    if failed:
        reasons.append(f"{failed} enqueues failed")
    if jobs_in_redis is not None and jobs_in_redis != jobs_recorded:
        reasons.append(f"{jobs_recorded} jobs recorded but {jobs_in_redis} found in Redis")
    if upper_ms is not None and upper_ms >= limit_ms:
        reasons.append(f"lateness p99 upper bound {upper_ms} ms (n={count}) >= {limit_ms:g} ms")
    if reasons:
        return False, reasons, upper_ms
    if upper_ms is None:
        return None, [f"{count} arrivals fired: too few to bound a p99 (299 needed)"], upper_ms
    return True, [], upper_ms


def sync_failures(load: LoadResult) -> int:
    """Enqueues of syncs the servers refused (Locust's failures of the sync-trigger requests)."""
    return sum(int(row.get("num_failures", 0)) for row in load.requests if row.get("name") == SYNC_REQUEST)


def schedule_held(load: LoadResult, limit_ms: float = LATENESS_LIMIT_MS) -> tuple[bool | None, list[str], float | None]:
    """`judge` for any run's load (a capacity step's "the load generator kept its schedule")."""
    arrived = load.arrivals()
    return judge(arrived["planned"], arrived["fired"], sync_failures(load), len(load.jobs), None,
                 decode(load.histograms["lateness_ms"]), limit_ms)


def generator_config(urls: StackUrls, prefix: str, out_dir: Path, rate_syncs_per_s: float, duration_s: float,
                     arrivals: str, seed: int) -> LoadConfig:
    tenants = [Tenant(f"gen-tenant-{i:03d}", f"gen-ds-{i:03d}") for i in range(GENERATOR_TENANTS)]
    return LoadConfig(urls.redis_url, urls.database_url, urls.nats_url, prefix, dict(NEW_PATH_FLAGS), tenants, [],
                      "constant", str(out_dir), seed, rate_syncs_per_s=rate_syncs_per_s, arrivals=arrivals,
                      duration_s=duration_s)


def check_request(rate_syncs_per_s: float, duration_s: float, processes: int, arrivals: str) -> None:
    if not rate_syncs_per_s > 0:
        raise UserError(f"rate {rate_syncs_per_s!r} syncs/s is not allowed; use a number above 0")
    if not duration_s > 0:
        raise UserError(f"duration {duration_s!r} s is not allowed; use a number above 0")
    if processes < 1:
        raise UserError(f"processes {processes!r} is not allowed; use 1 or more")
    if arrivals not in ARRIVALS:
        raise UserError(f"arrivals {arrivals!r} is not allowed; use one of {', '.join(ARRIVALS)}")


async def _jobs_in_redis_then_delete(redis_url: str, prefix: str) -> int:
    producer = SyncJobProducer(redis_url, prefix)
    try:
        counts = await producer.counts()
        await producer.queue.obliterate({"force": True})
    finally:
        await producer.close()
    return sum(counts.values())


def measure_generator(urls: StackUrls, rate_syncs_per_s: float, duration_s: float, *, processes: int = 1,
                      arrivals: str = "poisson", seed: int = 1, out_dir: Path | None = None,
                      lateness_limit_ms: float = LATENESS_LIMIT_MS) -> GeneratorResult:
    """Runs the generator alone for `duration_s` at `rate_syncs_per_s` and reports what it did.
    Locust's files go to `out_dir` (a temporary folder, removed after, when not given)."""
    check_request(rate_syncs_per_s, duration_s, processes, arrivals)
    prefix = f"gen-{uuid.uuid4().hex[:8]}"
    record_redis_prefix(urls.redis_url, prefix)  # deleted by the next run should this one be killed
    folder = out_dir or Path(tempfile.mkdtemp(prefix="generator-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = generator_config(urls, prefix, folder, rate_syncs_per_s, duration_s, arrivals, seed)
    config_path = folder / "load_config.json"  # holds the URLs: readable by this user only
    config_path.touch(mode=0o600)
    config.save(config_path)
    try:
        with CpuSampler() as cpu:
            load = run_load(config_path, folder, processes=processes)
        jobs_in_redis = asyncio.run(_jobs_in_redis_then_delete(urls.redis_url, prefix))
    finally:
        config_path.unlink(missing_ok=True)
        if out_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    result = _result(load, cpu.summary(), jobs_in_redis, rate_syncs_per_s, duration_s, processes, arrivals,
                     lateness_limit_ms)
    result.prefix = prefix
    return result


def _result(load: LoadResult, cpu: dict[str, Any], jobs_in_redis: int, rate: float, duration_s: float,
            processes: int, arrivals: str, limit_ms: float) -> GeneratorResult:
    arrived = load.arrivals()
    lateness = decode(load.histograms["lateness_ms"])
    failed = sync_failures(load)
    held, reasons, upper_ms = judge(arrived["planned"], arrived["fired"], failed, len(load.jobs), jobs_in_redis,
                                    lateness, limit_ms)
    span_s = load.counts.get("schedule_ms", 0) / 1000 or duration_s
    fired_syncs = arrived["fired"] / span_s
    fired_jobs = len(load.jobs) / span_s
    return GeneratorResult(
        rate_syncs_per_s=rate, duration_s=duration_s, processes=processes, arrivals=arrivals,
        planned=arrived["planned"], fired=arrived["fired"], dropped=arrived["dropped"], failed=failed,
        jobs_recorded=len(load.jobs), jobs_in_redis=jobs_in_redis,
        offered={"syncs_per_s": round(arrived["planned"] / span_s, 2),
                 "jobs_per_s": round(arrived["planned"] * len(ENTITY_TYPES) / span_s, 2)},
        fired_rate={"syncs_per_s": round(fired_syncs, 2), "jobs_per_s": round(fired_jobs, 2)},
        jobs_per_s_per_process=round(fired_jobs / processes, 1),
        lateness_ms={**summarize(lateness, "ms"), "p99_upper": upper_ms},
        enqueue_ms=summarize(decode(load.histograms["enqueue_ms"]), "ms"),
        cpu=cpu, held=held, reasons=reasons, lateness_limit_ms=limit_ms)
