"""The floor of the capacity search: no pipeline at all, only BullMQ workers with a no-op
processor (pipeline/floor.py) on the pipeline's queue name, fed by the same generator. What
they sustain, and at what latency, is the harness's own share (Locust, Redis, the queue
library) of every pipeline figure.

Each worker is a process: `python -m rollout_bench.capacity.floor_worker --redis-url URL
--prefix P --record FILE`. It appends `job_id started_epoch_s` to FILE for every job it
takes (line-buffered, so the harness reads it while it runs) and creates FILE only once its
Redis connection answers; SIGTERM closes it (exit 0). `FloorWorkers` starts W of them for
one step, each with a parent-death signal and its pid in the run's record, and stops them."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from msp_pipeline.contract.subjects import QUEUE_NAME
from rollout_bench.errors import InfrastructureError
from rollout_bench.pipeline.floor import no_op_worker
from rollout_bench.stack.orphans import die_with_parent, record_child

READY_TIMEOUT_S = 20.0
CONCURRENCY = 10  # the pipeline worker's default WORKER_CONCURRENCY


async def serve(redis_url: str, prefix: str, record: Path, concurrency: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    partial = record.with_suffix(".starting")
    with partial.open("w", buffering=1) as out:
        worker = no_op_worker(QUEUE_NAME, redis_url, prefix, lambda job_id, at: out.write(f"{job_id} {at:.6f}\n"),
                              concurrency)
        runner = asyncio.create_task(worker.run())
        try:
            await worker.client.ping()
            partial.rename(record)  # ready: the harness waits for this name
            await stop.wait()
        finally:
            await worker.close()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="floor_worker", description=__doc__)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.redis_url, args.prefix, args.record, args.concurrency))
    return 0


class FloorWorkers:
    """W no-op worker processes on one step's queue (BullMQ prefix)."""

    def __init__(self, redis_url: str, prefix: str, folder: Path, workers: int) -> None:
        self.redis_url, self.prefix, self.folder, self.count = redis_url, prefix, folder, workers
        self.popens: dict[str, subprocess.Popen[bytes]] = {}

    def records(self) -> list[Path]:
        return [self.folder / f"floor-worker-{index}.starts" for index in range(self.count)]

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for index, record in enumerate(self.records()):
            with (self.folder / f"floor-worker-{index}.log").open("ab") as log:
                popen = subprocess.Popen(
                    [sys.executable, "-m", "rollout_bench.capacity.floor_worker", "--redis-url", self.redis_url,
                     "--prefix", self.prefix, "--record", str(record)],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=die_with_parent(signal.SIGTERM))
            record_child(popen.pid, f"floor-worker-{index}")
            self.popens[f"floor-worker-{index}"] = popen
        deadline = time.monotonic() + READY_TIMEOUT_S
        for (name, popen), record in zip(self.popens.items(), self.records()):
            while not record.exists():
                if popen.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise InfrastructureError(f"{name} did not start within {READY_TIMEOUT_S:g} s (exit "
                                              f"{popen.returncode}); see {self.folder / (name + '.log')}")
                time.sleep(0.05)

    def pids(self) -> dict[str, int]:
        return {name: popen.pid for name, popen in self.popens.items()}

    def started(self) -> dict[str, float]:
        """job id -> when a worker started it (epoch seconds); the first start wins."""
        starts: dict[str, float] = {}
        for record in self.records():
            if not record.exists():
                continue
            lines = record.read_text().split("\n")[:-1]  # the last piece is unfinished (or empty)
            for line in lines:
                job_id, _, at = line.partition(" ")
                starts.setdefault(job_id, float(at))
        return starts

    def stop(self, grace_s: float = 10.0) -> dict[str, int | None]:
        for popen in self.popens.values():
            if popen.poll() is None:
                os.killpg(popen.pid, signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, popen in self.popens.items():
            try:
                codes[name] = popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                codes[name] = popen.wait()
        return codes


if __name__ == "__main__":
    sys.exit(main())
