"""Process settings from the environment. A bad value stops start-up with a ConfigError
that names the variable, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from msp_pipeline.contract.subjects import NAMESPACE_PATTERN
from msp_pipeline.rules import Quirks


class ConfigError(ValueError):
    """A setting or flag with a value that is not allowed."""


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ConfigError(f"{name}={raw!r} is not allowed; use true or false")


def parse_number(env: Mapping[str, str], name: str, default: float, *, low: float = 0,
                 high: float = float("inf"), integer: bool = False) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name}={raw!r} is not allowed; use {kind} from {low:g} to {high:g}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} is out of range; allowed {low:g} to {high:g}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    nats_url: str
    legacy_poll_interval_s: float = 60.0
    legacy_debounce_s: float = 300.0
    worker_concurrency: int = 10
    sync_page_size: int = 100
    metrics_port: int = 0
    comparison_webhook_url: str = ""
    bullmq_prefix: str = "bull"
    max_message_bytes: int = 262_144  # larger NATS messages and BullMQ job data are refused unparsed
    # the legacy scheduler claims every due job within each tenant's concurrent_job_limit per
    # poll (the plan's rule); a positive value adds a global cap on jobs in flight (0 = none)
    legacy_max_in_flight: int = 0
    nats_namespace: str = ""  # NATS_NAMESPACE: a run's own stream, subjects and consumers (subjects.py)
    legacy_quirks: Quirks = Quirks.legacy()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        missing = [k for k in ("DATABASE_URL", "REDIS_URL", "NATS_URL") if not env.get(k)]
        if missing:
            raise ConfigError(f"{missing[0]} is not set; set it to the server's URL "
                              "(or run `python -m rollout_bench stack up` and use its env file)")
        try:
            quirks = Quirks.parse(env.get("LEGACY_QUIRKS", "all"))
        except ValueError as exc:
            raise ConfigError(f"LEGACY_QUIRKS: {exc}") from None
        return cls(
            database_url=env["DATABASE_URL"],
            redis_url=env["REDIS_URL"],
            nats_url=env["NATS_URL"],
            legacy_poll_interval_s=parse_number(env, "LEGACY_POLL_INTERVAL_S", 60.0, low=0.05, high=3600),
            legacy_debounce_s=parse_number(env, "LEGACY_DEBOUNCE_S", 300.0, low=0, high=3600),
            worker_concurrency=int(parse_number(env, "WORKER_CONCURRENCY", 10, low=1, high=200, integer=True)),
            sync_page_size=int(parse_number(env, "SYNC_PAGE_SIZE", 100, low=1, high=10_000, integer=True)),
            metrics_port=int(parse_number(env, "METRICS_PORT", 0, low=0, high=65535, integer=True)),
            comparison_webhook_url=env.get("COMPARISON_WEBHOOK_URL", ""),
            bullmq_prefix=env.get("BULLMQ_PREFIX", "bull") or "bull",
            max_message_bytes=int(parse_number(env, "MAX_MESSAGE_BYTES", 262_144, low=1_024,
                                               high=8_388_608, integer=True)),
            legacy_max_in_flight=int(parse_number(env, "LEGACY_MAX_IN_FLIGHT", 0, low=0, high=10_000, integer=True)),
            nats_namespace=_namespace(env.get("NATS_NAMESPACE", "")),
            legacy_quirks=quirks,
        )


def _namespace(raw: str) -> str:
    value = raw.strip()
    if value and not NAMESPACE_PATTERN.match(value):
        raise ConfigError(f"NATS_NAMESPACE={raw!r} is not allowed; use 1-40 letters, digits, '_' or '-' (or leave it empty)")
    return value
