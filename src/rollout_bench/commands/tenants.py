"""`python -m rollout_bench tenants describe|load`"""

from __future__ import annotations

import argparse
import json
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("tenants", help="describe or load synthetic tenants")
    verbs = parser.add_subparsers(dest="verb", required=True)
    describe = verbs.add_parser("describe", help="print a profile's shape and planted findings as JSON")
    describe.add_argument("--profile", required=True)
    describe.add_argument("--seed", type=int, default=0)
    describe.set_defaults(func=run_describe)
    load = verbs.add_parser("load", help="load N tenants of a profile into the current stack")
    load.add_argument("--profile", required=True)
    load.add_argument("--count", type=int, default=1)
    load.add_argument("--seed", type=int, default=0)
    load.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    load.add_argument("--stack", default=os.environ.get("STACK", "auto"))
    load.set_defaults(func=run_load)


def run_describe(args: argparse.Namespace) -> int:
    from rollout_bench.tenants import describe

    json.dump(describe(args.profile, args.seed), sys.stdout, indent=2)
    print()
    return 0


def run_load(args: argparse.Namespace) -> int:
    from msp_pipeline.contract.schema import apply_migrations
    from rollout_bench.errors import UserError
    from rollout_bench.stack import open_stack
    from rollout_bench.tenants import load_tenants

    if args.count < 1:
        raise UserError(f"--count {args.count} is not allowed; use 1 or more")

    def load_into(url: str) -> None:
        apply_migrations(url)
        report = load_tenants(url, args.profile, args.count, args.seed)
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()

    if args.database_url:
        load_into(args.database_url)
    else:
        with open_stack(args.stack) as urls:
            load_into(urls.database_url)
    return 0
