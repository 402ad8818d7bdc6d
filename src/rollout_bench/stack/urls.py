"""The three URLs a stack serves, and the names of its servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from rollout_bench.errors import UserError

ServerName = Literal["redis", "nats", "postgres"]
SERVER_NAMES: tuple[ServerName, ...] = get_args(ServerName)

# The environment variables each URL travels in (Settings.from_env reads the same).
URL_VARIABLES: tuple[str, str, str] = ("REDIS_URL", "NATS_URL", "DATABASE_URL")


@dataclass(frozen=True)
class StackUrls:
    redis_url: str
    nats_url: str
    database_url: str

    def url_of(self, server: ServerName) -> str:
        return {"redis": self.redis_url, "nats": self.nats_url, "postgres": self.database_url}[server]

    def as_env(self) -> dict[str, str]:
        """{'REDIS_URL': ..., 'NATS_URL': ..., 'DATABASE_URL': ...}"""
        return dict(zip(URL_VARIABLES, (self.redis_url, self.nats_url, self.database_url), strict=True))

    @classmethod
    def from_env(cls, env: dict[str, str]) -> StackUrls:
        return cls(env["REDIS_URL"], env["NATS_URL"], env["DATABASE_URL"])


def check_server_name(server: str) -> ServerName:
    """The name itself, or a UserError naming the bad value and what is allowed."""
    for name in SERVER_NAMES:
        if server == name:
            return name
    raise UserError(f"server {server!r} is not allowed; use one of {', '.join(SERVER_NAMES)}")
