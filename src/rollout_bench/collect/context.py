"""The context every result carries: release, git commit, machine, library versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("bullmq", "nats-py", "psycopg", "redis", "locust", "hdrhistogram", "scipy", "prometheus-client")


def git_sha(repo: Path | None = None) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo or Path.cwd(), capture_output=True,
                             text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo or Path.cwd(),
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict[str, Any]:
    return {"hostname": platform.node(), "system": platform.system(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


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
