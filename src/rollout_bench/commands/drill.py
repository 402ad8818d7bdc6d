"""`python -m rollout_bench drill NAME|all`"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("drill", help="run a fault drill under load (each owns its embedded stack)")
    parser.add_argument("name", help="worker-kill | redis-restart | nats-restart | rollback | postgres-faults | gradual-rollback | all")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rollout_bench.console import Progress
    from rollout_bench.drills import DRILLS
    from rollout_bench.drills.base import render, write_drill_result
    from rollout_bench.errors import UserError
    from rollout_bench.paths import results_dir

    if args.name != "all" and args.name not in DRILLS:
        raise UserError(f"drill {args.name!r} is unknown; allowed: {', '.join(DRILLS)}, all")
    names = list(DRILLS) if args.name == "all" else [args.name]
    progress = Progress()
    failed = 0
    for name in names:
        out = results_dir() / "drills" / "work" / name
        out.mkdir(parents=True, exist_ok=True)
        result = DRILLS[name](out, progress)
        stored = write_drill_result(result, results_dir())
        print(render(result))
        print(f"  results: {stored}/summary.json")
        failed += not result.passed
    return 1 if failed else 0
