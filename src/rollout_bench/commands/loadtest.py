"""`python -m rollout_bench loadtest --week N --profile P` (what `make loadtest` runs)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("loadtest", help="run the rollout gate for one week")
    parser.add_argument("--week", required=True, help="rollout week 1..7")
    parser.add_argument("--profile", default="smoke", help="smoke | standard | soak | spike")
    parser.add_argument("--stack", default=os.environ.get("STACK", "auto"))
    parser.add_argument("--release", default=os.environ.get("RELEASE", ""))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1, help="Locust processes")
    parser.add_argument("--gates", type=Path, default=None, help="gates file (default: ops/gates.toml)")
    parser.add_argument("--ui", action="store_true", help="Locust web UI on 127.0.0.1:8089")
    parser.add_argument("--keep-database", action="store_true", help="keep the run's scratch database")
    parser.add_argument("--runs", type=int, default=None,
                        help="repeat the run N times (fresh pipeline processes, same seed), tied by a series "
                             "file; the last run judges the release comparison over all N; the exit code is "
                             "the largest of the runs' (default: the profile's, 10 for smoke)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from rollout_bench.errors import UserError
    from rollout_bench.load.profiles import load_profile_named
    from rollout_bench.run import LoadtestOptions, LoadtestRun

    try:
        week = int(args.week)
    except ValueError:
        raise UserError(f"WEEK={args.week!r} is not a rollout week; allowed: 1, 2, 3, 4, 5, 6, 7") from None
    options = LoadtestOptions(week=week, profile=args.profile, stack=args.stack, release=args.release,
                              seed=args.seed, ui=args.ui, processes=args.processes, gates_file=args.gates,
                              keep_database=args.keep_database)
    profile = load_profile_named(args.profile)
    runs = profile.runs if args.runs is None else args.runs
    if runs < 1:
        raise UserError(f"RUNS={runs} is not allowed; use 1 or more")
    if profile.headroom_gate:  # the evidence of the headroom gate: the week's mix searched with this code
        from rollout_bench.capacity.run import CapacityOptions, CapacityRun

        CapacityRun(CapacityOptions(week=week, path="mix", stack=args.stack, release=args.release,
                                    seed=args.seed)).run()
    from rollout_bench.load.machine_events import void_run_reason
    from rollout_bench.results.store import read_summary

    codes: list[int] = []
    folders: list[Path] = []
    void: list[str] = []  # runs the machine itself spoiled (a VM snapshot, a clock step): run again
    while len(folders) < runs:
        earlier = tuple(f for f in folders if (f / "samples.json.gz").is_file())  # runs that can be compared
        this_and_later = runs - len(folders)
        run = LoadtestRun(dataclasses.replace(options, series_earlier=earlier,
                                              series_runs=len(earlier) + this_and_later))
        code = run.execute()
        summary = read_summary(run.out) if (run.out / "summary.json").is_file() else None
        reason = void_run_reason(summary) if summary else ""
        if reason and runs > 1 and len(void) < runs:
            void.append(f"{run.out.name}: {reason}")
            print(f"series: run {run.out.name} is void, {reason}; it is run again ({len(void)} of at most {runs})")
            continue
        codes.append(code)
        folders.append(run.out)
        if summary:
            from rollout_bench.compare.output import regression_lines

            print(regression_lines(summary))
    if runs > 1:
        from rollout_bench.compare.figures import series_comparison
        from rollout_bench.results.store import write_series

        print(f"series of {runs} runs: {write_series(folders)} (exit codes {codes})")
        if void:
            print(f"void runs, run again: {'; '.join(void)}")
        print(series_comparison([f for f in folders if (f / "summary.json").is_file()]))
    return max(codes)
