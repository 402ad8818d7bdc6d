"""A stored release measured again on this machine, from its own commit (as asv measures
the base commit beside the head): the way to compare releases when the stored runs were
made on another machine, which the comparison refuses (apples and oranges).

The release's runs record their git commit. `remeasure` checks that commit out in a
temporary git worktree, installs it in its own virtual environment (`make install`), runs
its own gate (`rollout-bench loadtest --runs N`, week, profile and stack as the stored
runs had them) with its results in a temporary folder, and stores those runs as the
release `<release>@<machine>` beside the original. The latest stored release of the
machine's context is then this one, so `make loadtest` judges "no regression vs the last
release" against numbers of this machine. Disturbed runs are refused, as for `baseline`.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout_bench.collect.context import machine
from rollout_bench.compare.context import differences
from rollout_bench.compare.releases import ResultSet, load
from rollout_bench.errors import InfrastructureError, UserError
from rollout_bench.load.cpu import disturbance
from rollout_bench.paths import RESULTS_ENV, project_root
from rollout_bench.results.store import read_summary, releases, store_baseline

MACHINE_KEYS = ("hostname", "cpu_model", "cpus")
INSTALL_TIMEOUT_S = 1200.0
RUN_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Wanted:
    """The context a stored release must have to judge runs of this machine."""

    week: int
    profile: str
    stack: str

    def matches(self, summary: Mapping[str, Any], this_machine: Mapping[str, Any]) -> bool:
        recorded = summary.get("machine") or {}
        return (summary.get("week") == self.week and summary.get("profile") == self.profile
                and summary.get("stack") == self.stack
                and all(recorded.get(key) == this_machine.get(key) for key in MACHINE_KEYS))

    def same_load(self, summary: Mapping[str, Any]) -> bool:
        return (summary.get("week"), summary.get("profile"), summary.get("stack")) == (
            self.week, self.profile, self.stack)


def latest_release(wanted: Wanted, root: Path | None = None) -> ResultSet | None:
    """The latest stored release of `wanted`'s load (week, profile, stack), measured on any
    machine: an original, never a copy measured again elsewhere."""
    for directory in reversed(releases(root)):
        if "@" in directory.name:
            continue
        stored = load(directory)
        if all(wanted.same_load(summary) for summary in stored.summaries):
            return stored
    return None


def measured_here(release: str, wanted: Wanted, root: Path | None = None) -> ResultSet | None:
    """`release` itself or a copy of it measured on this machine in `wanted`'s context."""
    this_machine = machine()
    for directory in releases(root):
        if directory.name.split("@")[0] != release:
            continue
        stored = load(directory)
        if all(wanted.matches(summary, this_machine) for summary in stored.summaries):
            return stored
    return None


def release_commit(stored: ResultSet) -> str:
    """The one clean commit every run of the release was made from."""
    shas = {str(summary.get("git_sha", "")) for summary in stored.summaries}
    if len(shas) != 1:
        raise UserError(f"release {stored.name}: its runs come from several commits ({', '.join(sorted(shas))}); "
                        "cannot measure it again")
    sha = shas.pop()
    if not re.fullmatch(r"[0-9a-f]{7,40}", sha):
        raise UserError(f"release {stored.name}: commit {sha!r} is not a clean commit (a dirty tree or unknown); "
                        "cannot measure it again")
    found = subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=project_root(),
                           capture_output=True, text=True, timeout=10)
    if found.returncode != 0:
        raise UserError(f"release {stored.name}: commit {sha} is not in this repository (a shallow clone?); "
                        "fetch it or measure the release where it is")
    return sha


def machine_slug() -> str:
    model = re.sub(r"[^a-z0-9]+", "-", str(machine().get("cpu_model", "unknown")).lower()).strip("-")
    return f"{model}-{machine().get('cpus')}cpu"


Measure = Callable[[Path, Wanted, int, Path], None]  # (checkout, wanted, runs, results folder)


def measure_checkout(checkout: Path, wanted: Wanted, runs: int, results: Path) -> None:
    """`make install` then its own `rollout-bench loadtest --runs N` in the checkout."""
    install = subprocess.run(["make", "-C", str(checkout), "install"], capture_output=True, text=True,
                             timeout=INSTALL_TIMEOUT_S)
    if install.returncode != 0:
        tail = " | ".join((install.stdout + install.stderr).strip().splitlines()[-3:])
        raise InfrastructureError(f"could not install the release's commit in {checkout}: {tail}")
    command = [str(checkout / ".venv" / "bin" / "rollout-bench"), "loadtest", "--week", str(wanted.week),
               "--profile", wanted.profile, "--stack", wanted.stack, "--runs", str(runs)]
    done = subprocess.run(command, cwd=checkout, env={**os.environ, RESULTS_ENV: str(results)},
                          timeout=RUN_TIMEOUT_S)
    if done.returncode == 2:  # 0, 1, 3, 4 are verdicts of the old release's own gates: its runs still count
        raise InfrastructureError(f"the release's own loadtest could not run (exit 2): {' '.join(command)}")


def remeasure(stored: ResultSet, wanted: Wanted, runs: int, measure: Measure = measure_checkout,
              root: Path | None = None, progress: Callable[[str], None] = print) -> Path:
    """Measures `stored` again here and stores it as `<name>@<machine>`; returns its folder."""
    if runs < 1:
        raise UserError(f"--runs {runs} is not allowed; use 1 or more")
    sha = release_commit(stored)
    name = f"{stored.name.split('@')[0]}@{machine_slug()}"
    with tempfile.TemporaryDirectory(prefix="remeasure-") as scratch:
        checkout, results = Path(scratch) / "checkout", Path(scratch) / "results"
        subprocess.run(["git", "worktree", "add", "--detach", str(checkout), sha], cwd=project_root(),
                       capture_output=True, text=True, timeout=60, check=True)
        try:
            progress(f"remeasure: release {stored.name} from commit {sha[:10]} on this machine, {runs} run(s)")
            measure(checkout, wanted, runs, results)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=project_root(),
                           capture_output=True, text=True, timeout=60)
        made = [d for d in sorted((results / "runs").glob("*")) if (d / "summary.json").is_file()]
        if len(made) < runs:
            raise InfrastructureError(f"the release's own loadtest wrote {len(made)} run(s), {runs} wanted")
        disturbed = [why for why in (disturbance(read_summary(d)) for d in made) if why]
        if disturbed:
            raise UserError(f"{disturbed[0]}: a remeasured release of disturbed runs would hide regressions; "
                            "run it again on a quiet machine")
        refusing = [d for d in made if differences(read_summary(made[0]), read_summary(d))[0]]
        if refusing:
            raise InfrastructureError(f"the remeasured runs differ in context among themselves ({refusing[0].name})")
        return store_baseline(made, name, root, force=True)


__all__ = ["Wanted", "latest_release", "machine_slug", "measure_checkout", "measured_here", "release_commit",
           "remeasure"]
