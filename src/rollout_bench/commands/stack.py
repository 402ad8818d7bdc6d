"""`python -m rollout_bench stack up|down|status [--mode M]`"""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("stack", help="start, stop or show the Redis/NATS/Postgres stack")
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--mode", default=os.environ.get("STACK", "auto"),
                        help="auto | external | containers | embedded")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rollout_bench.stack.state import stack_down, stack_status, stack_up

    if args.action == "up":
        for name, value in stack_up(args.mode).urls.as_env().items():
            print(f"{name}={value}")
        return 0
    if args.action == "down":
        stack_down()
        print("stack: down")
        return 0
    lines = stack_status()
    if lines is None:
        print("stack: nothing left up by `stack up`; `make loadtest` starts one itself (STACK=auto)")
        return 1
    print("\n".join(lines))
    return 0
