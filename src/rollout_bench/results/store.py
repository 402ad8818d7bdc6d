"""Where results live, under `paths.results_dir()`: results/runs/<run_id>/ for every run
(ignored by git), results/series/<id>.json tying the runs of one `loadtest --runs N`, and
results/releases/<release>/ for stored baselines (committed): release.json (its runs), one
folder per run under runs/<run_id>/ with its summary.json and raw samples, and a copy of the
last run's summary.json at the top. A release stored before several runs were kept is one
run: its own folder."""

from __future__ import annotations

import gzip
import json
import secrets
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rollout_bench.errors import UserError
from rollout_bench.paths import results_dir

BASELINE_FILES = ("summary.json", "samples.json.gz", "histograms.json", "bench.json", "capacity.json",
                  "scaleout.json")
CAPACITY_FILES = ("capacity.json", "scaleout.json")  # a capacity run keeps these instead of raw samples


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


def run_dirs(directory: Path) -> list[Path]:
    """The run folders of a release (several), or [directory] for one run."""
    runs = sorted(p for p in (directory / "runs").glob("*") if (p / "summary.json").is_file())
    return runs or [directory]


def write_series(runs: list[Path], root: Path | None = None) -> Path:
    """results/series/<first run id>.json: the runs of one `loadtest --runs N`."""
    root = root or results_dir()
    folder = root / "series"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{runs[0].name}.json"
    write_json(path, {"runs": [r.name for r in runs], "created_at": datetime.now(timezone.utc).isoformat()})
    return path


def store_baseline(runs: list[Path], release: str, root: Path | None = None, force: bool = False) -> Path:
    """Stores the runs (each with its raw samples, or its capacity.json / scaleout.json) as
    results/releases/RELEASE."""
    root = root or results_dir()
    if not release or "/" in release or release.startswith("."):
        raise UserError(f"RELEASE={release!r} is not a valid release name (non-empty, no '/', not starting with '.')")
    if not runs:
        raise UserError("no run to store; run `make loadtest RUNS=3` first")
    target = root / "releases" / release
    if target.exists() and not force:
        raise UserError(f"release {release!r} is already stored at {target}; pass --force to replace it")
    if target.exists():
        shutil.rmtree(target)
    for run in runs:
        if not (run / "samples.json.gz").is_file() and not any((run / name).is_file() for name in CAPACITY_FILES):
            raise UserError(f"run {run.name} has no samples.json.gz (nor a capacity result); a baseline keeps raw "
                            "samples")
        folder = target / "runs" / run.name
        folder.mkdir(parents=True)
        for name in BASELINE_FILES:
            if (run / name).is_file():
                shutil.copy2(run / name, folder / name)
    if (runs[-1] / "summary.json").is_file():
        shutil.copy2(runs[-1] / "summary.json", target / "summary.json")
    write_json(target / "release.json", {"release": release, "runs": [r.name for r in runs],
                                         "stored_at": datetime.now(timezone.utc).isoformat()})
    return target


def latest_runs(count: int, same_as: Callable[[dict[str, Any]], bool] | None = None,
                root: Path | None = None) -> list[Path]:
    """The latest `count` runs (oldest first) whose summary passes `same_as`."""
    root = root or results_dir()
    found = [p for p in sorted((root / "runs").glob("*"), reverse=True) if (p / "summary.json").is_file()
             and (same_as is None or same_as(read_summary(p)))]
    return sorted(found[:count])
def releases(root: Path | None = None) -> list[Path]:
    """Stored releases, oldest first. A release measured again on another machine
    (`<release>@<machine>`, see compare/remeasure.py) stands right after its original."""
    root = root or results_dir()
    found = [p for p in (root / "releases").glob("*") if (p / "summary.json").is_file()]
    started = {p.name: str(read_summary(p).get("started_at", "")) for p in found}

    def order(folder: Path) -> tuple[str, str]:
        original = folder.name.split("@")[0]
        return started.get(original, started[folder.name]), folder.name

    return sorted(found, key=order)
