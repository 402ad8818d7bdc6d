"""`python -m rollout_bench compare --base X [--head Y]` and `baseline --release X`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    compare = sub.add_parser("compare", help="compare a run or release with a stored release")
    compare.add_argument("--base", required=True, help="release name or run id")
    compare.add_argument("--head", default=None, help="release name or run id (default: the latest run)")
    compare.add_argument("--factor", type=float, default=1.10, help="ratio beyond which a change may count")
    compare.set_defaults(func=run_compare)
    baseline = sub.add_parser("baseline", help="store a run as results/releases/RELEASE")
    baseline.add_argument("--release", required=True)
    baseline.add_argument("--run", default=None, help="run id (default: the latest run)")
    baseline.add_argument("--force", action="store_true")
    baseline.set_defaults(func=run_baseline)


def run_compare(args: argparse.Namespace) -> int:
    from rollout_bench.compare.releases import compare_runs, render, trend_plot
    from rollout_bench.paths import results_dir
    from rollout_bench.results.store import latest_run, releases, resolve

    base = resolve(args.base)
    head = resolve(args.head) if args.head else latest_run()
    rows, warnings = compare_runs(base, head, args.factor)
    print(f"base {base}  ->  head {head}")
    print(render(rows, warnings))
    plot = trend_plot(releases(), results_dir() / "trend.png")
    if plot:
        print(f"trend plot: {plot}")
    return 1 if any(r.verdict == "regression" for r in rows) else 0


def run_baseline(args: argparse.Namespace) -> int:
    from rollout_bench.errors import UserError
    from rollout_bench.results.store import latest_run, resolve, store_baseline

    if not args.release:
        raise UserError("RELEASE is empty; use make baseline RELEASE=x")
    run = resolve(args.run) if args.run else latest_run()
    target = store_baseline(run, args.release, force=args.force)
    print(f"stored {run} as {target}")
    return 0
