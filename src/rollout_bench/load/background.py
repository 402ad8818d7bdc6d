"""A sampler that runs in a background thread while the load runs: started on enter, asked
to stop on exit and joined (each sampler owns its own connections inside `_run`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

JOIN_TIMEOUT_S = 10.0


@dataclass
class BackgroundSampler:
    thread_name: ClassVar[str] = "sampler"
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Any:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=JOIN_TIMEOUT_S)

    def _run(self) -> None:
        raise NotImplementedError
