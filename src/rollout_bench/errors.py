"""User errors (bad input, a server that will not come up) kept apart from bugs.

A UserError's message says what was wrong and how to fix it; the CLI prints it on one
line and exits 2. Anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    exit_code = 2


class InfrastructureError(UserError):
    """A server that does not come up or answer; the message names which and why."""
