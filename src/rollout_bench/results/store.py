"""Where results live: results/runs/<run_id>/ for every run (ignored by git) and
results/releases/<release>/ for stored baselines (committed), under `paths.results_dir()`."""

from __future__ import annotations

import gzip
import json
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rollout_bench.errors import UserError
from rollout_bench.paths import results_dir

BASELINE_FILES = ("summary.json", "samples.json.gz", "histograms.json")


def new_run_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_dir(run_id: str, root: Path | None = None) -> Path:
    root = root or results_dir()
    path = root / "runs" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_samples(directory: Path, samples: dict[str, dict[str, list[float]]]) -> None:
    """Raw samples per metric and path (what `compare` tests significance on)."""
    with gzip.open(directory / "samples.json.gz", "wt") as handle:
        json.dump(samples, handle)


def read_samples(directory: Path) -> dict[str, dict[str, list[float]]]:
    path = directory / "samples.json.gz"
    if not path.is_file():
        return {}
    with gzip.open(path, "rt") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def read_summary(directory: Path) -> dict[str, Any]:
    path = directory / "summary.json"
    if not path.is_file():
        raise UserError(f"{directory} has no summary.json")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def latest_run(root: Path | None = None) -> Path:
    root = root or results_dir()
    runs = sorted(p for p in (root / "runs").glob("*") if (p / "summary.json").is_file())
    if not runs:
        raise UserError(f"no run with a summary.json under {root / 'runs'}; run `make loadtest` first")
    return runs[-1]


def resolve(name: str, root: Path | None = None) -> Path:
    """A release name (results/releases/NAME) or a run id (results/runs/ID)."""
    root = root or results_dir()
    for candidate in (root / "releases" / name, root / "runs" / name, Path(name)):
        if (candidate / "summary.json").is_file():
            return candidate
    releases = sorted(p.name for p in (root / "releases").glob("*"))
    raise UserError(f"{name!r} is neither a stored release nor a run id; releases: {', '.join(releases) or 'none'}")


def store_baseline(run: Path, release: str, root: Path | None = None, force: bool = False) -> Path:
    root = root or results_dir()
    if not release or "/" in release:
        raise UserError(f"RELEASE={release!r} is not a valid release name (non-empty, no '/')")
    target = root / "releases" / release
    if target.exists() and not force:
        raise UserError(f"release {release!r} is already stored at {target}; pass --force to replace it")
    target.mkdir(parents=True, exist_ok=True)
    for name in BASELINE_FILES:
        if (run / name).is_file():
            shutil.copy2(run / name, target / name)
    return target


def releases(root: Path | None = None) -> list[Path]:
    root = root or results_dir()
    return sorted((p for p in (root / "releases").glob("*") if (p / "summary.json").is_file()),
                  key=lambda p: read_summary(p).get("started_at", ""))
