"""`rollout-bench generator --rate SYNCS_PER_S --duration S [--processes N]`: the load
generator alone (no pipeline, no worker) on its own Redis prefix: offered vs fired, arrival
lateness, dropped arrivals, the jobs that reached Redis and the generator's CPU.
Exit 0 when it held the rate, 1 when it did not, 4 without evidence, 2 on bad input."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rollout_bench.load.config import ARRIVALS

EXIT_CODES = {True: 0, False: 1, None: 4}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("generator", help="measure the load generator's own ceiling (no pipeline, no worker)")
    parser.add_argument("--rate", type=float, required=True, help="syncs per second (5 jobs each)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load (default 20)")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes (default 1)")
    parser.add_argument("--arrivals", choices=ARRIVALS, default="poisson")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lateness-limit-ms", type=float, default=50.0,
                        help="the arrival lateness p99 the generator must stay under (default 50)")
    parser.add_argument("--stack", default=os.environ.get("STACK", "auto"))
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rollout_bench.load.generator import check_request, measure_generator
    from rollout_bench.safety import check_load_target
    from rollout_bench.stack import open_stack

    check_request(args.rate, args.duration, args.processes, args.arrivals)
    with open_stack(args.stack) as urls:
        check_load_target(urls.redis_url, os.environ)
        result = measure_generator(urls, args.rate, args.duration, processes=args.processes, arrivals=args.arrivals,
                                   seed=args.seed, lateness_limit_ms=args.lateness_limit_ms)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print("\n".join(result.lines()))
    return EXIT_CODES[result.held]
