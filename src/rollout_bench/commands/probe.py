"""`python -m rollout_bench probe --profile NAME [--path legacy|unified|both]`"""

from __future__ import annotations

import argparse
import json
import os
import sys

from msp_pipeline.rules import Quirks
from rollout_bench.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("probe", help="one full analysis per path on one synthetic tenant, as JSON")
    parser.add_argument("--profile", required=True, help="tenant profile (fixtures/profiles/NAME.toml)")
    parser.add_argument("--path", choices=("legacy", "unified", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--legacy-quirks", default="none",
                        help=f"legacy quirks on: all, none, or a comma list of {', '.join(Quirks.names())}")
    parser.add_argument("--stack", default=os.environ.get("STACK", "auto"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rollout_bench.probe import PATHS, ProbeRequest, run_probe
    from rollout_bench.stack import open_stack

    try:
        quirks = Quirks.parse(args.legacy_quirks)
    except ValueError as exc:
        raise UserError(f"--legacy-quirks: {exc}") from None
    paths = PATHS if args.path == "both" else (args.path,)
    request = ProbeRequest(args.profile, args.seed, paths, quirks)
    with open_stack(args.stack) as urls:
        result = run_probe(urls.database_url, request)
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0
