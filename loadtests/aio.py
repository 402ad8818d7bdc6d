"""One asyncio loop per Locust process, running for the whole run in a greenlet of its own,
for the clients that are asyncio-only (bullmq, nats-py). Greenlets hand it coroutines and
wait for their results cooperatively, so many enqueues can be in flight at once.

Needs gevent's monkey-patching (Locust does it): the loop waits in gevent's selector, so the
hub runs the other greenlets meanwhile.

Why not one asyncio loop per greenlet, or a native thread: the running loop is per thread,
so a second loop run in another greenlet while the first waits is refused ("Cannot run the
event loop while another loop is running"), which is why the old arrival user serialised
every sync under a lock; and a native thread running asyncio under gevent's monkey-patching
shares gevent's patched locks, the import locks among them, with the hub's thread (tried
while building this: a native thread importing while the hub's thread started its hub
deadlocked in one run of five), while the GIL gives it no more CPU than a greenlet."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import gevent

T = TypeVar("T")


class SharedLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.greenlet = gevent.spawn(self.loop.run_forever)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """The coroutine's result, run on the loop; this greenlet waits, the others run. On a
        timeout the coroutine is cancelled and TimeoutError raised."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.greenlet.join()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


_SHARED: SharedLoop | None = None


def shared_loop() -> SharedLoop:
    """This process's loop, started on first use."""
    global _SHARED
    if _SHARED is None or _SHARED.loop.is_closed():
        _SHARED = SharedLoop()
    return _SHARED


def close_shared_loop() -> None:
    """Closes this process's loop, if it was ever started."""
    if _SHARED is not None:
        _SHARED.close()
