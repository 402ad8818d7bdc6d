"""STACK=auto|external|containers|embedded: which stack serves, and why (one line)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from rollout_bench.errors import InfrastructureError
from rollout_bench.paths import stack_state_dir
from rollout_bench.safety import check_load_target
from rollout_bench.stack.base import RunningStack, check_mode
from rollout_bench.stack.containers import ContainerStack, docker_available
from rollout_bench.stack.embedded import EmbeddedStack
from rollout_bench.stack.urls import URL_VARIABLES, StackUrls


def state_file() -> Path:
    return stack_state_dir() / "state.json"


def external_stack(env: Mapping[str, str], reason: str) -> RunningStack:
    missing = [name for name in URL_VARIABLES if not env.get(name)]
    if missing:
        raise InfrastructureError(f"external stack: {', '.join(missing)} not set; set all of {', '.join(URL_VARIABLES)}")
    for name in URL_VARIABLES:  # before any DNS lookup or health check reaches the hosts
        check_load_target(env[name], env)
    stack = RunningStack(StackUrls(env["REDIS_URL"], env["NATS_URL"], env["DATABASE_URL"]), "external", reason,
                         owned=False)
    problems = {name: why for name, why in stack.health().items() if why}
    if problems:
        name, why = next(iter(problems.items()))
        raise InfrastructureError(f"external {name} does not answer: {why}")
    stack.check_pg_stat_statements()
    return stack


def stack_up_state() -> RunningStack | None:
    """The stack `stack up` left running, if it still answers."""
    if not state_file().is_file():
        return None
    state = json.loads(state_file().read_text())
    reason = f"left up by `stack up` ({state_file()})"
    if state["mode"] == "embedded":
        embedded = EmbeddedStack.from_state(state, reason)
        embedded.on_restart = _save_state  # a drill's restart() changes pids: `stack down` must see the new ones
        stack: RunningStack = embedded
    else:
        stack = RunningStack(StackUrls.from_env(state["urls"]), state["mode"], reason, owned=False)
    if any(stack.health().values()):
        return None
    stack.check_pg_stat_statements()
    return stack


def _save_state(stack: EmbeddedStack) -> None:
    state_file().write_text(json.dumps(stack.to_state(), indent=2))


def start_stack(mode: str = "auto", *, env: Mapping[str, str] | None = None, redis_aof: bool = False,
                use_state: bool = True, detached: bool = False) -> RunningStack:
    """The first stack that serves (auto) or the one asked for. detached=True (`stack up`) starts
    embedded servers that outlive this process until `stack down`."""
    environment = os.environ if env is None else env
    check_mode(mode)
    if mode == "auto":
        found = stack_up_state() if use_state else None
        if found:
            return found
        if all(environment.get(name) for name in URL_VARIABLES):
            return external_stack(environment, "REDIS_URL, NATS_URL, DATABASE_URL are set")
        problem = docker_available()
        if problem is None:
            return ContainerStack.start("a Docker engine answers", detached=detached)
        return EmbeddedStack.start(f"URLs not set and {problem}", redis_aof=redis_aof, detached=detached)
    if mode == "external":
        return external_stack(environment, "STACK=external")
    if mode == "containers":
        return ContainerStack.start("STACK=containers", detached=detached)
    return EmbeddedStack.start("STACK=embedded", redis_aof=redis_aof, detached=detached)


@contextmanager
def running_stack(mode: str = "auto", *, redis_aof: bool = False, quiet: bool = False) -> Iterator[RunningStack]:
    """The running stack; what this call started is stopped on exit, Ctrl-C or error."""
    stack = start_stack(mode, redis_aof=redis_aof)
    if not quiet:
        print(stack.describe(), file=sys.stderr, flush=True)
    try:
        yield stack
    finally:
        try:
            for cleanup in reversed(stack.cleanups):
                cleanup()
        finally:
            stack.stop()


@contextmanager
def open_stack(mode: str = "auto", *, redis_aof: bool = False) -> Iterator[StackUrls]:
    with running_stack(mode, redis_aof=redis_aof) as stack:
        yield stack.urls
