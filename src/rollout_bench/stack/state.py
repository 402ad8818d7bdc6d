"""`stack up` / `stack down` / `stack status`: a stack kept up between commands, described
by `.stack/state.json` (what to stop) and `.stack/env` (its URLs, for a shell to source)."""

from __future__ import annotations

import json
import sys

from rollout_bench.paths import stack_state_dir
from rollout_bench.stack.base import RunningStack
from rollout_bench.stack.containers import ContainerStack, remove_containers
from rollout_bench.stack.embedded import EmbeddedStack
from rollout_bench.stack.orphans import end_orphans
from rollout_bench.stack.select import stack_up_state, start_stack, state_file


def stack_up(mode: str) -> RunningStack:
    """The stack left up before, or a new one started detached; its state written down."""
    found = stack_up_state()
    if found:
        print(found.describe(), file=sys.stderr)
        return found
    stack = start_stack(mode, use_state=False, detached=True)
    print(stack.describe(), file=sys.stderr)
    stack_state_dir().mkdir(exist_ok=True)
    state = (stack.to_state() if isinstance(stack, (EmbeddedStack, ContainerStack))
             else {"mode": stack.mode, "reason": stack.reason, "urls": stack.urls.as_env()})
    state_file().write_text(json.dumps(state, indent=2))
    (stack_state_dir() / "env").write_text("".join(f"export {k}={v}\n" for k, v in stack.urls.as_env().items()))
    return stack


def stack_down() -> None:
    """Stops what `stack up` started (also when it no longer answers) and forgets it; ends
    what killed runs left behind (their children, temporary folders, config files, keys)."""
    for line in end_orphans():
        print(f"stack down: {line}", file=sys.stderr)
    stack = stack_up_state()
    if stack is None and state_file().is_file():
        state = json.loads(state_file().read_text())
        stack = EmbeddedStack.from_state(state, "stale state") if state["mode"] == "embedded" else None
    if isinstance(stack, EmbeddedStack):
        stack.teardown()
    elif state_file().is_file():
        container_ids = json.loads(state_file().read_text()).get("container_ids", [])
        if container_ids:
            remove_containers(container_ids)
    for path in (state_file(), stack_state_dir() / "env"):
        path.unlink(missing_ok=True)


def stack_status() -> list[str] | None:
    """Lines that describe the stack left up and each server's health; None when there is none."""
    stack = stack_up_state()
    if stack is None:
        return None
    lines = [stack.describe()]
    for name, problem in stack.health().items():
        lines.append(f"  {name:<9} {'answers' if problem is None else 'DOWN: ' + problem}  {stack.urls.url_of(name)}")
    return lines
