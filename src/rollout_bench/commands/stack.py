"""`python -m rollout_bench stack up|down|status [--mode M]`"""

from __future__ import annotations

import argparse
import json
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("stack", help="start, stop or show the Redis/NATS/Postgres stack")
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--mode", default=os.environ.get("STACK", "auto"),
                        help="auto | external | containers | embedded")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..stack.containers import ContainerStack, remove_containers
    from ..stack.embedded import EmbeddedStack
    from ..stack.select import STATE_DIR, STATE_FILE, stack_up_state, start_stack

    if args.action == "up":
        found = stack_up_state()
        if found:
            print(found.describe(), file=sys.stderr)
            stack = found
        else:
            stack = start_stack(args.mode, use_state=False, detached=True)
            print(stack.describe(), file=sys.stderr)
            STATE_DIR.mkdir(exist_ok=True)
            state = (stack.to_state() if isinstance(stack, (EmbeddedStack, ContainerStack))
                     else {"mode": stack.mode, "reason": stack.reason, "urls": stack.urls.as_env()})
            STATE_FILE.write_text(json.dumps(state, indent=2))
            (STATE_DIR / "env").write_text("".join(f"export {k}={v}\n" for k, v in stack.urls.as_env().items()))
        for name, value in stack.urls.as_env().items():
            print(f"{name}={value}")
        return 0
    if args.action == "down":
        stack = stack_up_state()
        if stack is None and STATE_FILE.is_file():
            state = json.loads(STATE_FILE.read_text())
            stack = EmbeddedStack.from_state(state, "stale state") if state["mode"] == "embedded" else None
        if isinstance(stack, EmbeddedStack):
            stack.teardown()
        elif STATE_FILE.is_file():
            container_ids = json.loads(STATE_FILE.read_text()).get("container_ids", [])
            if container_ids:
                remove_containers(container_ids)
        for path in (STATE_FILE, STATE_DIR / "env"):
            path.unlink(missing_ok=True)
        print("stack: down")
        return 0
    stack = stack_up_state()
    if stack is None:
        print("stack: nothing left up by `stack up`; `make loadtest` starts one itself (STACK=auto)")
        return 1
    print(stack.describe())
    for name, problem in stack.health().items():
        print(f"  {name:<9} {'answers' if problem is None else 'DOWN: ' + problem}  {stack.urls.url_of(name)}")
    return 0
