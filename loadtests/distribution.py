"""Who fires which arrivals, on Locust's own engine: alone (one process) or as a master with
workers (`--processes N` on one machine, or `--master` / `--worker` across machines).

- Alone, the process fires the whole schedule.
- The master computes the schedule (and records it as planned), gives each connected worker
  a share (arrival i goes to worker i mod N, so the merged stream is exactly the schedule
  and sync ids never collide) and one start time, a second ahead, so every worker's offset 0
  falls at the same instant (on hosts whose clocks agree). It fires nothing itself.
- Each worker fires its share; when done it sends its record (jobs, histograms, counts) in a
  last message, and the master waits for all of them before the run ends and load.json is
  written. The regular worker reports (report_to_master) carry the same record meanwhile.
- When the master stops early it tells the workers to stop firing; what they did not fire
  counts as dropped."""

from __future__ import annotations

import logging
import time
from typing import Any

from gevent.event import Event
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests.arrivals import FIRE_DRAIN_S, ArrivalEngine, Share
from loadtests.recorder import RECORDER
from loadtests.shapes import SCHEDULE_LEAD_S, RateShape
from rollout_bench.load.config import LoadConfig

SCHEDULE_MESSAGE = "rollout_schedule"  # master -> worker: {start_at, index, count}
STOP_MESSAGE = "rollout_stop"  # master -> workers: stop firing now
DONE_MESSAGE = "rollout_done"  # worker -> master: {record}: the worker's last record, its share done
DONE_WAIT_S = FIRE_DRAIN_S + 10.0

LOG = logging.getLogger(__name__)


class Distribution:
    def __init__(self, config: LoadConfig, shape: RateShape) -> None:
        self.config, self.shape = config, shape
        self.engine: ArrivalEngine | None = None
        self.awaiting: set[str] = set()  # workers with a share whose last record has not come
        self.all_done = Event()

    def install(self) -> None:
        events.init.add_listener(self._on_init)
        events.test_start.add_listener(self._on_test_start)
        events.test_stopping.add_listener(self._on_test_stopping)
        events.test_stop.add_listener(self._on_test_stop)

    def offsets(self) -> list[float]:
        return list(self.shape.arrival_offsets(arrivals=self.config.arrivals, seed=self.config.seed))

    def _plan(self, offsets: list[float]) -> None:
        RECORDER.count("arrivals_planned", len(offsets))
        RECORDER.count("schedule_ms", round(self.shape.duration_s * 1000))

    def _on_init(self, environment: Any, **_: Any) -> None:
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            runner.register_message(SCHEDULE_MESSAGE, self._on_schedule, concurrent=True)
            runner.register_message(STOP_MESSAGE, self._on_stop_message, concurrent=True)
        elif isinstance(runner, MasterRunner):
            runner.register_message(DONE_MESSAGE, self._on_done)

    def _on_test_start(self, environment: Any, **_: Any) -> None:
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            return  # its share comes from the master
        self._stop_engine()
        offsets = self.offsets()
        self._plan(offsets)
        start_at = time.time() + SCHEDULE_LEAD_S
        if not isinstance(runner, MasterRunner):
            self._start_engine(environment, offsets, Share(0, 1, start_at), None)
            return
        workers = sorted(runner.clients.ready + runner.clients.spawning + runner.clients.running,
                         key=lambda client: runner.get_worker_index(client.id))
        self.awaiting = {client.id for client in workers}
        self.all_done.clear()
        if not workers:
            LOG.warning("no worker connected: none of the %d planned arrivals will fire", len(offsets))
            self.all_done.set()
        for index, client in enumerate(workers):
            runner.send_message(SCHEDULE_MESSAGE, {"start_at": start_at, "index": index, "count": len(workers)},
                                client_id=client.id)

    def _on_schedule(self, environment: Any, msg: Any, **_: Any) -> None:
        self._stop_engine()
        share = Share(int(msg.data["index"]), int(msg.data["count"]), float(msg.data["start_at"]))
        runner = environment.runner
        self._start_engine(environment, self.offsets(), share,
                           lambda: runner.send_message(DONE_MESSAGE, {"record": RECORDER.drain()}))

    def _start_engine(self, environment: Any, offsets: list[float], share: Share, on_finished: Any) -> None:
        self.engine = ArrivalEngine(environment, self.config, offsets, share, on_finished)
        self.engine.start()

    def _stop_engine(self) -> None:
        if self.engine is not None:
            self.engine.stop()

    def _on_stop_message(self, environment: Any, msg: Any, **_: Any) -> None:
        self._stop_engine()

    def _on_done(self, environment: Any, msg: Any, **_: Any) -> None:
        RECORDER.absorb(msg.data.get("record"))
        self.awaiting.discard(msg.node_id)
        if not self.awaiting:
            self.all_done.set()

    def _on_test_stopping(self, environment: Any, **_: Any) -> None:
        if isinstance(environment.runner, MasterRunner) and self.awaiting:
            environment.runner.send_message(STOP_MESSAGE)

    def _on_test_stop(self, environment: Any, **_: Any) -> None:
        if isinstance(environment.runner, MasterRunner):
            if not self.all_done.wait(DONE_WAIT_S):
                LOG.warning("no last record from %d worker(s) within %g s: their unreported arrivals count "
                                "as dropped", len(self.awaiting), DONE_WAIT_S)
        else:
            self._stop_engine()
