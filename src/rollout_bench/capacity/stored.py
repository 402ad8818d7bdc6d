"""Capacity results where they are kept: `capacity.json` (one search) and `scaleout.json`
(one search per worker count) in a run folder, and the same files under runs/<run_id>/ of
a stored release (results/releases/<release>/, see results/store.py)."""

from __future__ import annotations

import json
from pathlib import Path

from rollout_bench.capacity.compare import key_of, same_machine_context
from rollout_bench.capacity.result import CapacityResult
from rollout_bench.capacity.scaleout import SCALEOUT_FILE, ScaleOutResult
from rollout_bench.errors import UserError
from rollout_bench.paths import results_dir

CAPACITY_FILE = "capacity.json"
Release = tuple[str, list[CapacityResult]]


def _read(path: Path) -> list[CapacityResult]:
    try:
        data = json.loads(path.read_text())
        if path.name == SCALEOUT_FILE:
            return ScaleOutResult.from_dict(data).results
        return [CapacityResult.from_dict(data)]
    except (json.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path} is not a capacity result this version reads ({type(exc).__name__}: {exc})") from exc


def results_in(directory: Path) -> list[CapacityResult]:
    """Every capacity result in a run folder or a stored release, once each (by run id)."""
    found: dict[str, CapacityResult] = {}
    for folder in (directory, *sorted((directory / "runs").glob("*"))):
        for name in (CAPACITY_FILE, SCALEOUT_FILE):
            if (folder / name).is_file():
                for result in _read(folder / name):
                    found.setdefault(result.run_id, result)
    return sorted(found.values(), key=lambda r: r.started_at)


def resolve_capacity(name: str, root: Path | None = None) -> Release:
    """A release name (results/releases/NAME), a run id (results/runs/ID) or a folder."""
    root = root or results_dir()
    for candidate in (root / "releases" / name, root / "runs" / name, Path(name)):
        results = results_in(candidate) if candidate.is_dir() else []
        if results:
            return candidate.name, results
    known = [release for release, _ in stored_releases(root)]
    raise UserError(f"{name!r} holds no capacity result (capacity.json or scaleout.json); releases with one: "
                    f"{', '.join(known) or 'none'}")


def stored_releases(root: Path | None = None) -> list[Release]:
    """Every stored release with capacity results, the earliest started first."""
    root = root or results_dir()
    stored = [(folder.name, results_in(folder)) for folder in sorted((root / "releases").glob("*")) if folder.is_dir()]
    return sorted(((name, results) for name, results in stored if results), key=lambda r: r[1][0].started_at)


def releases_like(reference: CapacityResult, root: Path | None = None, same_key: bool = False) -> list[Release]:
    """Stored releases with results of `reference`'s machine, stack, server majors and
    profile (what the trend across releases draws); with `same_key` only those of its path,
    week, workers and arrivals as well (what `reference` may be compared with)."""
    out = []
    for name, results in stored_releases(root):
        same = [r for r in results if same_machine_context(r, reference)
                and (not same_key or key_of(r) == key_of(reference))]
        if same:
            out.append((name, same))
    return out


def latest_release_like(reference: CapacityResult, root: Path | None = None) -> Release | None:
    """The most recently started stored release with a result `reference` may be compared
    with (same context, path, week, workers and arrivals), if any."""
    like = releases_like(reference, root, same_key=True)
    return like[-1] if like else None


__all__ = ["CAPACITY_FILE", "latest_release_like", "releases_like", "resolve_capacity", "results_in",
           "stored_releases"]
