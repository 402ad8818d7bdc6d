"""RunningStack: what callers hold while a stack is up. Subclass it (or write a fake with the
same attributes) to swap in another stack."""

from __future__ import annotations

from collections.abc import Callable

from rollout_bench.errors import UserError
from rollout_bench.stack.health import check_all, pg_stat_statements_status
from rollout_bench.stack.urls import ServerName, StackUrls, check_server_name

STACK_MODES: tuple[str, ...] = ("auto", "external", "containers", "embedded")


class RestartNotSupported(UserError):
    """restart() asked of a stack that cannot restart its servers (external, containers)."""


def check_mode(mode: str) -> str:
    if mode not in STACK_MODES:
        raise UserError(f"stack mode {mode!r} is not allowed; use one of {', '.join(STACK_MODES)}")
    return mode


class RunningStack:
    """A stack that serves: its URLs, the mode and why it was chosen.

    owned: True when this process started the servers and stop() stops them; a stack that
    was merely found (external, or left up by `stack up`) has owned=False and stop() leaves
    it running.
    """

    def __init__(self, urls: StackUrls, mode: str, reason: str, *, owned: bool) -> None:
        self.cleanups: list[Callable[[], None]] = []  # run (last first) before the stack stops
        self.urls = urls
        self.mode = mode
        self.reason = reason
        self.owned = owned
        self.pg_stat_statements_problem: str | None = "not checked yet"

    @property
    def pg_stat_statements(self) -> bool:
        """True when pg_stat_statements can be queried in the stack's database."""
        return self.pg_stat_statements_problem is None

    def check_pg_stat_statements(self, *, create: bool = False) -> bool:
        self.pg_stat_statements_problem = pg_stat_statements_status(self.urls.database_url, create=create)
        return self.pg_stat_statements

    def health(self) -> dict[str, str | None]:
        """{'redis': None | reason, 'nats': ..., 'postgres': ...}; None = answers."""
        return check_all(self.urls)

    def describe(self) -> str:
        """One line: `stack: MODE (REASON)`."""
        return f"stack: {self.mode} ({self.reason})"

    def stop(self) -> None:
        """Stop what this process started; a found stack is left running."""

    def restart(self, server: ServerName, *, kill: bool = False) -> None:
        check_server_name(server)
        raise RestartNotSupported(
            f"restart({server!r}) is not supported for the {self.mode} stack; use STACK=embedded for drills "
            "that restart servers")
