"""Safety: load goes to loopback only (unless a host is allowed by name), and no secret
reaches a log, summary.json or the report.

The loopback check reads each URL as its client will (libpq, redis-py, nats-py) and
decides from the text alone: no DNS lookup, no socket. A host name other than `localhost`
is refused unless allowed by name, since what it resolves to can change after the check."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from msp_pipeline.contract.redact import MASK, redact_text
from rollout_bench.errors import UserError

ALLOW_ENV = "LOADTEST_ALLOWED_HOSTS"
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|credential)", re.IGNORECASE)


LIBPQ_SCHEMES = ("postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss", "unix")
NATS_SCHEMES = ("nats", "tls", "ws", "wss")


def dialed_hosts(target: str, env: Mapping[str, str]) -> list[str]:
    """Every host the target's own client would dial, read with that client's rules and
    without any DNS lookup or connection: libpq's conninfo_to_dict (`host` and `hostaddr`
    lists, query parameters that override the URL's host, PGHOST/PGHOSTADDR when the URL
    names none), redis-py's parse_url, nats-py's server URL parser. A Unix socket path is
    given as itself (local by nature)."""
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    if scheme in LIBPQ_SCHEMES or (not scheme and "=" in target):
        return _libpq_hosts(target, env)
    if scheme in REDIS_SCHEMES:
        return _redis_hosts(target)
    if scheme in NATS_SCHEMES:
        return _nats_hosts(target)
    if scheme:
        raise UserError(f"load target {redact(target)!r} has scheme {scheme!r}; allowed: "
                        f"{', '.join(LIBPQ_SCHEMES + REDIS_SCHEMES + NATS_SCHEMES)}")
    return [target.rsplit(":", 1)[0] if target.count(":") == 1 else target.strip("[]")]


def _libpq_hosts(target: str, env: Mapping[str, str]) -> list[str]:
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(target)
    except ProgrammingError as exc:
        raise UserError(f"load target {redact(target)!r} is not a libpq connection string: {one_line(exc)}") from None
    if params.get("service") or (not params.get("host") and env.get("PGSERVICE")):
        raise UserError(f"load target {redact(target)!r} names a pg_service.conf service, whose host this check "
                        "cannot see; give host= (or hostaddr=) in the URL instead")
    hosts = _split(params.get("host") or env.get("PGHOST", ""))
    addresses = _split(params.get("hostaddr") or env.get("PGHOSTADDR", ""))
    return (hosts + addresses) or ["/ (default Unix socket)"]


def _redis_hosts(target: str) -> list[str]:
    from redis.connection import parse_url

    try:
        params = parse_url(target)
    except ValueError as exc:
        raise UserError(f"load target {redact(target)!r} is not a Redis URL: {one_line(exc)}") from None
    if target.lower().startswith("unix://"):
        return [str(params.get("path") or "/")]
    return [str(params.get("host") or "localhost")]  # redis-py's own default host


def _nats_hosts(target: str) -> list[str]:
    from nats.aio.client import Client
    from nats.errors import Error as NatsError

    try:
        return [str(Client._parse_server_uri(target).hostname)]
    except NatsError as exc:
        raise UserError(f"load target {redact(target)!r} is not a NATS URL: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _is_local(host: str) -> bool:
    """Loopback by its text alone: localhost, a loopback IP literal, or a Unix socket."""
    if host.startswith(("/", "@")) or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False  # a name: allowed only by LOADTEST_ALLOWED_HOSTS (no DNS lookup here)


def check_load_target(url_or_host: str, env: Mapping[str, str]) -> None:
    """Refuses a target any of whose dialed hosts is not loopback, unless that host is named
    in LOADTEST_ALLOWED_HOSTS. Runs before anything resolves or connects to the target."""
    hosts = dialed_hosts(url_or_host, env)
    if not hosts or any(not h for h in hosts):
        raise UserError(f"load target {redact(url_or_host)!r} names no host")
    allowed = {h.strip() for h in env.get(ALLOW_ENV, "").split(",") if h.strip()}
    for host in hosts:
        if host in allowed or _is_local(host):
            continue
        raise UserError(f"refusing to send load to {host!r} (from {redact(url_or_host)!r}): not a loopback "
                        f"address; if this host is a test system, allow it with {ALLOW_ENV}={host}")


def redact(text: str) -> str:
    """Every URL in `text` with its passwords masked (userinfo and query string alike)."""
    return redact_text(text)


def redact_obj(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with URL passwords and secret-looking keys masked."""
    if isinstance(value, Mapping):
        return {k: redact_obj(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_obj(v, key) for v in value]
    if isinstance(value, str):
        return MASK if key and _SECRET_KEY.search(key) and value else redact(value)
    return value
