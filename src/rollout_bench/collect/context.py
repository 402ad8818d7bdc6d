"""The context every result carries: release, git commit, machine, CPU, server and library versions."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import nats
import nats.errors
import psycopg
import redis

from rollout_bench.paths import project_root
from rollout_bench.stack.urls import StackUrls

LIBRARIES = ("bullmq", "nats-py", "psycopg", "redis", "locust", "hdrhistogram", "scipy", "prometheus-client")


def git_sha(repo: Path | None = None) -> str:
    """The commit of the checkout, `-dirty` when tracked files differ from it."""
    where = repo or project_root()
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {"hostname": platform.node(), "system": platform.system(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version()}


def server_versions(urls: StackUrls) -> dict[str, str]:
    """PostgreSQL, Redis and NATS server versions, as each server reports itself."""
    versions: dict[str, str] = {}
    try:
        with psycopg.connect(urls.database_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            versions["postgres"] = str(row[0]) if row else "unknown"
    except psycopg.OperationalError as exc:
        versions["postgres"] = f"unknown ({type(exc).__name__})"
    client = redis.Redis.from_url(urls.redis_url, socket_timeout=5)
    try:
        versions["redis"] = str(client.info("server").get("redis_version", "unknown"))
    except redis.RedisError as exc:
        versions["redis"] = f"unknown ({type(exc).__name__})"
    finally:
        client.close()
    versions["nats"] = asyncio.run(_nats_version(urls.nats_url))
    return versions


async def _nats_version(url: str) -> str:
    try:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0, allow_reconnect=False)
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        return f"unknown ({type(exc).__name__})"
    try:
        version = nc.connected_server_version
        return f"{version.major}.{version.minor}.{version.patch}"
    finally:
        await nc.close()


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def default_release() -> str:
    from rollout_bench import __version__

    return os.environ.get("RELEASE") or __version__
