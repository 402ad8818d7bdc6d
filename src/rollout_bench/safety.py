"""Safety: load goes to loopback only (unless a host is allowed by name), and no secret
reaches a log, summary.json or the report."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from msp_pipeline.contract.redact import MASK, redact_text
from rollout_bench.errors import UserError

ALLOW_ENV = "LOADTEST_ALLOWED_HOSTS"
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|credential)", re.IGNORECASE)


def _host_of(target: str) -> str:
    if "://" in target:
        return urlsplit(target).hostname or ""
    return target.rsplit(":", 1)[0] if target.count(":") == 1 else target.strip("[]")


def _is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def check_load_target(url_or_host: str, env: Mapping[str, str]) -> None:
    """Refuses a target that is not a loopback address unless named in LOADTEST_ALLOWED_HOSTS."""
    host = _host_of(url_or_host)
    if not host:
        raise UserError(f"load target {redact(url_or_host)!r} names no host")
    allowed = {h.strip() for h in env.get(ALLOW_ENV, "").split(",") if h.strip()}
    if host in allowed or _is_loopback(host):
        return
    raise UserError(f"refusing to send load to {host!r}: not a loopback address; if this host is a test "
                    f"system, allow it with {ALLOW_ENV}={host}")


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
