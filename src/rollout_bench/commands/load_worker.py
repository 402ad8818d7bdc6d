"""`rollout-bench load-worker --config PATH --master-host H [--master-port P] [--processes N]`:
a Locust worker of a run whose master runs on another host (run_load(..., master=True)). The
config is a copy of the master's run config (LOADTEST_CONFIG); its load targets are checked
here as everywhere (loopback, or hosts named in LOADTEST_ALLOWED_HOSTS). Runs until the
master ends the run; exits with Locust's exit code."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rollout_bench.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from rollout_bench.load.locust import MASTER_PORT

    parser = sub.add_parser("load-worker", help="a Locust worker for a load master on another host")
    parser.add_argument("--config", required=True, type=Path, help="the run's load config (a copy of the master's)")
    parser.add_argument("--master-host", required=True, help="the master's address")
    parser.add_argument("--master-port", type=int, default=MASTER_PORT, help=f"default {MASTER_PORT}")
    parser.add_argument("--processes", type=int, default=1, help="worker processes on this host (default 1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rollout_bench.load.config import CONFIG_ENV, LoadConfig
    from rollout_bench.load.locust import run_locust, worker_command
    from rollout_bench.safety import check_load_target

    if args.processes < 1:
        raise UserError(f"--processes {args.processes!r} is not allowed; use 1 or more")
    if not args.config.is_file():
        raise UserError(f"--config {str(args.config)!r} is not a file; copy the master's run config here")
    config = LoadConfig.load(str(args.config))
    for url in (config.redis_url, config.database_url, config.nats_url):
        check_load_target(url, os.environ)
    env = {**os.environ, CONFIG_ENV: str(args.config.resolve())}
    return run_locust(worker_command(args.master_host, args.master_port, args.processes), env, None, None)
