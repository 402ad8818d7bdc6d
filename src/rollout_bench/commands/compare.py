"""`python -m rollout_bench compare --base X [--head Y] [--json] [--force]` and
`baseline --release X [--runs N | --run ID ...] [--force]`, and
`remeasure [--release X] --week N --profile P --stack S [--runs N] [--if-missing]`.

compare exits 0 (no regression), 1 (a regression), 2 (refused: a different context, unless
--force, which still prints every difference)."""

from __future__ import annotations

import argparse
import json
import shutil

from rollout_bench.compare import CALIBRATED_RUNS as DEFAULT_BASELINE_RUNS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    compare = sub.add_parser("compare", help="compare a run or release with a stored release")
    compare.add_argument("--base", required=True, help="release name or run id")
    compare.add_argument("--head", default=None, help="release name or run id (default: the latest run)")
    compare.add_argument("--factor", type=float, default=1.10, help="ratio beyond which a change may count")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON (for CI)")
    compare.add_argument("--force", action="store_true", help="compare results of a different context anyway")
    compare.add_argument("--no-plot", action="store_true", help="do not write results/trend.png")
    compare.set_defaults(func=run_compare)
    baseline = sub.add_parser("baseline", help="store runs as results/releases/RELEASE")
    baseline.add_argument("--release", required=True)
    baseline.add_argument("--run", action="append", default=None, help="run id (repeatable; default: latest runs)")
    baseline.add_argument("--runs", type=int, default=DEFAULT_BASELINE_RUNS,
                          help="how many of the latest undisturbed runs of the latest run's context to store "
                               f"(default {DEFAULT_BASELINE_RUNS})")
    baseline.add_argument("--force", action="store_true", help="replace a stored release")
    baseline.set_defaults(func=run_baseline)
    again = sub.add_parser("remeasure", help="measure a stored release again on this machine, from its commit")
    again.add_argument("--release", default=None,
                       help="stored release (default: the latest one of this week, profile and stack)")
    again.add_argument("--week", type=int, default=5)
    again.add_argument("--profile", default="smoke")
    again.add_argument("--stack", default="embedded", help="the resolved stack mode the runs recorded")
    again.add_argument("--runs", type=int, default=DEFAULT_BASELINE_RUNS)
    again.add_argument("--if-missing", action="store_true",
                       help="do nothing when the release was measured on this machine already")
    again.set_defaults(func=run_remeasure)


def run_compare(args: argparse.Namespace) -> int:
    from rollout_bench.compare.bench import bench_rows, read_bench
    from rollout_bench.compare.context import refusal
    from rollout_bench.compare.output import as_json, render, table
    from rollout_bench.compare.releases import compare_dirs
    from rollout_bench.compare.trend import trend_plot
    from rollout_bench.errors import UserError
    from rollout_bench.paths import results_dir
    from rollout_bench.results.store import latest_run, releases, resolve

    if not args.factor > 1.0:
        raise UserError(f"--factor {args.factor} is not allowed; use a ratio above 1 (e.g. 1.10)")
    base = resolve(args.base)
    head = resolve(args.head) if args.head else latest_run()
    comparison = compare_dirs(base, head, args.factor)
    if comparison.refusing and not args.force:
        raise UserError(refusal(comparison.refusing))
    bench = bench_rows(read_bench(base), read_bench(head))
    if args.json:
        document = json.loads(as_json(comparison))
        document["bench"] = [row.to_dict() for row in bench]
        print(json.dumps(document, indent=2))
    else:
        print(render(comparison))
        if bench:
            print("pytest-benchmark (reported, not judged):\n" + table(bench))
    if not args.json and not args.no_plot:
        plot = trend_plot(releases(), results_dir() / "trend.png")
        if plot:
            print(f"trend plot: {plot}")
    return 1 if comparison.regressions else 0


def run_baseline(args: argparse.Namespace) -> int:
    from rollout_bench.compare.bench import BENCH_FILE, latest_bench
    from rollout_bench.compare.context import same_context
    from rollout_bench.errors import UserError
    from rollout_bench.load.cpu import disturbance
    from rollout_bench.paths import results_dir
    from rollout_bench.results.store import latest_run, latest_runs, read_summary, resolve, store_baseline

    if not args.release:
        raise UserError("RELEASE is empty; use make baseline RELEASE=x")
    if args.run:
        runs = [resolve(run) for run in args.run]
        disturbed = [why for why in (disturbance(read_summary(r)) for r in runs) if why]
        if disturbed and not args.force:
            raise UserError(f"{disturbed[0]}: a baseline of disturbed runs would hide regressions; pass --force "
                            "to store it anyway")
    else:
        if args.runs < 1:
            raise UserError(f"--runs {args.runs} is not allowed; use 1 or more")
        context = read_summary(latest_run())
        runs = latest_runs(args.runs, lambda summary: same_context(summary, context)
                           and (args.force or not disturbance(summary)))
        if len(runs) < args.runs:
            raise UserError(f"{len(runs)} undisturbed run(s) of the latest run's context found, {args.runs} wanted; "
                            f"make more on a quiet machine with `make loadtest WEEK={context.get('week')} "
                            f"PROFILE={context.get('profile')} RUNS={args.runs}` or pass --runs {len(runs)}")
    target = store_baseline(runs, args.release, force=args.force)
    print(f"stored {len(runs)} run(s) as {target}: {', '.join(r.name for r in runs)}")
    bench = latest_bench(results_dir())
    if bench is not None:
        shutil.copy2(bench, target / BENCH_FILE)
        print(f"with the latest pytest-benchmark results: {bench}")
    return 0


def run_remeasure(args: argparse.Namespace) -> int:
    from rollout_bench.compare.releases import load
    from rollout_bench.compare.remeasure import Wanted, latest_release, measured_here, remeasure
    from rollout_bench.errors import UserError
    from rollout_bench.results.store import resolve

    wanted = Wanted(args.week, args.profile, args.stack)
    stored = load(resolve(args.release)) if args.release else latest_release(wanted)
    if args.if_missing and stored is not None:
        here = measured_here(stored.name.split("@")[0], wanted)
        if here is not None:
            print(f"remeasure: release {stored.name} was measured on this machine ({here.name}: week {args.week}, "
                  f"profile {args.profile}, stack {args.stack}); nothing to do")
            return 0
    if stored is None:
        raise UserError(f"no stored release of week {args.week}, profile {args.profile}, stack {args.stack} to "
                        "measure again; make one with `make loadtest` and `make baseline RELEASE=x`")
    target = remeasure(stored, wanted, args.runs)
    print(f"remeasure: stored as {target}")
    return 0
