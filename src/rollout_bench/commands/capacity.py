"""`python -m rollout_bench capacity --week N --path P --workers W` (what `make capacity` runs):
the search for the highest sustainable arrival rate."""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("capacity", help="find the highest sustainable arrival rate (the knee) of a path")
    parser.add_argument("--week", type=int, default=5, help="rollout week 1..7 (its roles; PATH=mix: its flags)")
    parser.add_argument("--path", default="unified", help="unified | legacy | mix | floor")
    parser.add_argument("--workers", default="1",
                        help="BullMQ worker processes (the worker role W times); several, e.g. 1,2,4: one search "
                             "per count and a Universal Scalability Law fit (scaleout.json, scaleout.png)")
    parser.add_argument("--stack", default=os.environ.get("STACK", "auto"))
    parser.add_argument("--hold", type=float, default=30.0, help="seconds judged per step, after the warm-up")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of each step not judged")
    parser.add_argument("--max-hold", type=float, default=180.0,
                        help="longest hold: a rate too low for 400 judged jobs in --hold holds longer, up to this")
    parser.add_argument("--start", type=float, default=1.0, help="first rate, syncs/s (then x2 until a step fails)")
    parser.add_argument("--max-steps", type=int, default=12, help="steps at most, repeats included")
    parser.add_argument("--budget", type=float, default=560.0,
                        help="seconds for the whole command; a step starts only if it fits (with the floor step)")
    parser.add_argument("--arrivals", default="poisson", help="poisson (seeded exponential gaps) | uniform")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tenants", type=int, default=None,
                        help="tenants in the production model's mix (default: its count, 200)")
    parser.add_argument("--drain", type=float, default=20.0,
                        help="seconds to wait after a step for its jobs to start before clearing the backlog")
    parser.add_argument("--repeats", type=int, default=1, help="repetitions of the knee's rate")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor step at the knee's rate")
    parser.add_argument("--release", default=os.environ.get("RELEASE", ""))
    parser.set_defaults(func=run)


def worker_counts(text: str) -> list[int]:
    from rollout_bench.errors import UserError

    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or any(c < 1 for c in counts):
        raise UserError(f"WORKERS={text!r} is not allowed; use a whole number >= 1, or several like 1,2,4")
    return counts


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from rollout_bench.capacity.run import CapacityOptions, CapacityRun

    counts = worker_counts(str(args.workers))
    options = CapacityOptions(week=args.week, path=args.path, workers=counts[0], stack=args.stack,
                              hold_s=args.hold, warmup_s=args.warmup, max_hold_s=args.max_hold, start=args.start, max_steps=args.max_steps,
                              budget_s=args.budget, arrivals=args.arrivals, seed=args.seed, release=args.release,
                              tenants=args.tenants, drain_s=args.drain, floor=not args.no_floor,
                              repeats=args.repeats)
    if len(counts) == 1:
        return CapacityRun(options).execute()
    from rollout_bench.capacity.describe import describe_result
    from rollout_bench.capacity.scaleout import run_scaleout

    scaleout = run_scaleout(counts, lambda n: CapacityRun(dataclasses.replace(options, workers=n)).run())
    for count in scaleout.counts:
        print(f"{count.workers} worker(s): {describe_result(count.result)}" + (f" ({count.reason})" if count.reason else ""))
    print(f"USL: {scaleout.fit.sentence}\nresults: {scaleout.files['json']}, {scaleout.files['plot']}")
    return 0 if scaleout.fit.fitted else 1
