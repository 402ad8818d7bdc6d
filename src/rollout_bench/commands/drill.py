"""`python -m rollout_bench drill NAME|all`"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("drill", help="run a fault drill under load (each owns its embedded stack)")
    parser.add_argument("name", help="worker-kill | redis-restart | nats-restart | rollback | all")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..drills import DRILLS
    from ..drills.base import render, write_drill_result
    from ..errors import UserError
    from ..loadtest import Progress

    if args.name != "all" and args.name not in DRILLS:
        raise UserError(f"drill {args.name!r} is unknown; allowed: {', '.join(DRILLS)}, all")
    names = list(DRILLS) if args.name == "all" else [args.name]
    progress = Progress()
    failed = 0
    for name in names:
        out = Path("results") / "drills" / "work" / name
        out.mkdir(parents=True, exist_ok=True)
        result = DRILLS[name](out, progress)
        stored = write_drill_result(result, Path("results"))
        print(render(result))
        print(f"  results: {stored}/summary.json")
        failed += not result.passed
    return 1 if failed else 0
