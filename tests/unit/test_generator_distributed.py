"""The Locust command lines of a distributed run: a master for workers on other hosts (with
its bind address, port and how long it waits for them), the worker that joins it, and the
combinations that are refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout_bench.errors import UserError
from rollout_bench.load.locust import MasterOptions, locust_command, master_options, worker_command


def _after(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_a_master_waits_for_its_workers_on_its_bind_address() -> None:
    command = locust_command(Path("c.json"), Path("out"), 1, False, MasterOptions(3, "198.51.100.1", 5600, 60.0))
    assert "--master" in command and "--processes" not in command and "--headless" in command
    assert _after(command, "--expect-workers") == "3"
    assert _after(command, "--master-bind-host") == "198.51.100.1"
    assert _after(command, "--master-bind-port") == "5600"
    assert _after(command, "--expect-workers-max-wait") == "60"


def test_local_processes_stay_on_loopback() -> None:
    command = locust_command(Path("c.json"), Path("out"), 4, False)
    assert _after(command, "--processes") == "4" and _after(command, "--master-bind-host") == "127.0.0.1"
    assert "--master" not in command


def test_a_worker_joins_its_master() -> None:
    command = worker_command("198.51.100.1", 5600, processes=2)
    assert "--worker" in command and _after(command, "--master-host") == "198.51.100.1"
    assert _after(command, "--master-port") == "5600" and _after(command, "--processes") == "2"
    assert "--processes" not in worker_command("198.51.100.1")


@pytest.mark.parametrize("expect_workers, port, processes, message", [
    (2, 5557, 3, "processes 3 with master=True is not allowed"),
    (0, 5557, 1, "expect_workers 0 is not allowed; use 1 or more"),
    (1, 70000, 1, "master port 70000 is not allowed; use 1 to 65535"),
])
def test_bad_master_options_are_refused(expect_workers: int, port: int, processes: int, message: str) -> None:
    with pytest.raises(UserError, match=message):
        master_options(True, expect_workers, "127.0.0.1", port, processes)
    assert master_options(False, expect_workers, "127.0.0.1", port, processes) is None
