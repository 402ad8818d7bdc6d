"""Redis, NATS and Postgres for the suite: external, containers or embedded (docs/architecture.md).

`open_stack(mode)` yields the URLs; `running_stack(mode)` the RunningStack itself (mode,
reason, health, restart for drills). Whatever a call started is stopped when it exits."""

from rollout_bench.stack.base import STACK_MODES, RunningStack
from rollout_bench.stack.select import open_stack, running_stack, start_stack
from rollout_bench.stack.urls import StackUrls

__all__ = ["STACK_MODES", "RunningStack", "StackUrls", "open_stack", "running_stack", "start_stack"]
