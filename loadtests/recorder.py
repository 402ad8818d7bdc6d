"""Per-process record of what the load did — every job it enqueued and HDR histograms of
the client-side figures — shipped to the Locust master with each worker report and
written to <out_dir>/load.json at the end."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from rollout_bench.collect.histograms import decode, encode, new_histogram

CLIENT_METRICS = ("enqueue_ms", "lateness_ms")


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jobs: list[dict[str, Any]] = []
        self.histograms = {name: new_histogram() for name in CLIENT_METRICS}
        self.counts: dict[str, int] = {}
        self.mutations: list[dict[str, Any]] = []

    def mutation(self, record: dict[str, Any]) -> None:
        """A graph_source change that was applied (in order), for the plan to replay."""
        with self._lock:
            self.mutations.append(record)

    def job(self, job_key: str, path: str, tenant_id: str, intended_at: str) -> None:
        with self._lock:
            self.jobs.append({"job_key": job_key, "path": path, "tenant_id": tenant_id, "intended_at": intended_at})

    def observe(self, metric: str, value_ms: float) -> None:
        with self._lock:
            self.histograms[metric].record_value(max(1, round(value_ms * 1000)))

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def drain(self) -> dict[str, Any]:
        """What a worker ships to the master; resets this process's record."""
        with self._lock:
            data = {"jobs": self.jobs, "histograms": {k: encode(h) for k, h in self.histograms.items()},
                    "counts": self.counts, "mutations": self.mutations}
            self.jobs, self.counts, self.mutations = [], {}, []
            self.histograms = {name: new_histogram() for name in CLIENT_METRICS}
        return data

    def absorb(self, data: dict[str, Any] | None) -> None:
        """On the master: merge one worker report."""
        if not data:
            return
        with self._lock:
            self.jobs.extend(data.get("jobs", []))
            self.mutations.extend(data.get("mutations", []))
            for name, text in data.get("histograms", {}).items():
                self.histograms[name].add(decode(text))
            for name, n in data.get("counts", {}).items():
                self.counts[name] = self.counts.get(name, 0) + int(n)

    def write(self, out_dir: str) -> Path:
        path = Path(out_dir) / "load.json"
        with self._lock:
            path.write_text(json.dumps({"jobs": self.jobs, "counts": self.counts, "mutations": self.mutations,
                                        "histograms": {k: encode(h) for k, h in self.histograms.items()}}))
        return path


RECORDER = Recorder()
