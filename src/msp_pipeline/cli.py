"""Command line of `python -m msp_pipeline`: parses arguments, reads settings and flags
(a bad one: `error: ...` on one line, exit 2, nothing started), applies the schema
migrations, serves /metrics on 127.0.0.1, logs one structured start-up line (passwords
masked) and runs the roles (msp_pipeline.processes)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from msp_pipeline.contract.redact import mask_url, mask_webhook
from msp_pipeline.contract.schema import apply_migrations
from msp_pipeline.contract.settings import Settings
from msp_pipeline.faults import parse_test_fault
from msp_pipeline.log import log
from msp_pipeline.metrics import Metrics
from msp_pipeline.migration import ConfigError, TenantMigration
from msp_pipeline.processes import DRAIN_TIMEOUT_S, ROLES, run_process

EXIT_USAGE = 2


def settings_for_log(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready fields, with no secret in any URL."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if field.name == "comparison_webhook_url":
            value = mask_webhook(value)
        elif isinstance(value, str) and "://" in value:
            value = mask_url(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        fields[field.name] = value
    return fields


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m msp_pipeline", description="Runs a pipeline process.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start a pipeline process")
    run.add_argument("--role", required=True, choices=(*ROLES, "all"),
                     help="which components this process runs (all = every role)")
    run.add_argument("--metrics-port", type=int, default=None,
                     help="serve /metrics on 127.0.0.1:PORT (0 = off; default: METRICS_PORT)")
    run.add_argument("--drain-timeout", type=float, default=DRAIN_TIMEOUT_S,
                     help=f"seconds to drain in-flight work after SIGTERM (default {DRAIN_TIMEOUT_S:g})")
    return parser


def _usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    environment = os.environ if env is None else env
    try:
        settings = Settings.from_env(environment)
        routing = TenantMigration.from_env(environment)
        parse_test_fault(environment)  # test-only PIPELINE_TEST_FAULT: refused here when malformed
    except ConfigError as exc:
        return _usage_error(str(exc))
    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    if not 0 <= port <= 65535:
        return _usage_error(f"--metrics-port {port} is not allowed; use 0 (off) to 65535")
    if not args.drain_timeout > 0:
        return _usage_error(f"--drain-timeout {args.drain_timeout:g} is not allowed; use a number of seconds > 0")
    roles = list(ROLES) if args.role == "all" else [args.role]
    try:
        applied = apply_migrations(settings.database_url)
    except Exception as exc:  # noqa: BLE001 - start-up: say why in one line, with no password
        return _usage_error(f"cannot prepare the database at {mask_url(settings.database_url)}: "
                            f"{type(exc).__name__}: {' '.join(str(exc).split())}")
    metrics = Metrics()
    try:
        metrics.serve(port)
    except OSError as exc:
        return _usage_error(f"cannot serve /metrics on 127.0.0.1:{port}: {exc.strerror or exc}")
    log("Main", "startup", "pipeline process started", role=args.role, roles=roles, pid=os.getpid(),
        metrics_port=port, drain_timeout_s=args.drain_timeout, migrations_applied=applied,
        flags=routing.describe(), settings=settings_for_log(settings))
    return asyncio.run(run_process(roles, settings, routing, metrics, drain_timeout_s=args.drain_timeout))
