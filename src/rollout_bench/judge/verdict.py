"""The verdict from gate results, in order:
ROLLBACK when an integrity gate fails (data lost or written across tenants: true whatever
the machine did); else INCONCLUSIVE when a validity gate fails (the run cannot be judged:
a saturated machine or load generator, clocks apart); else ROLLBACK when another rollback
trigger fails; else HOLD when a target fails; else INCONCLUSIVE when a gate lacks its
evidence or could not be evaluated; else PROMOTE. Gates not applicable to the week are
listed, and do not count.

Exit codes of `rollout-bench loadtest`: 0 PROMOTE, 1 HOLD, 3 ROLLBACK, 4 INCONCLUSIVE
(2 is a usage or infrastructure error, raised before any verdict)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rollout_bench.judge.gates import GateResult

EXIT_CODES = {"PROMOTE": 0, "HOLD": 1, "ROLLBACK": 3, "INCONCLUSIVE": 4}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: list[str]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def _reason(r: GateResult) -> str:
    if r.result in ("inconclusive", "error"):
        return f"{r.name}: {r.result} ({r.note})"
    observed = "no value" if r.observed is None else f"{r.observed:.4g}"
    return f"{r.name}: observed {observed}, target {r.target}" + (f" ({r.note})" if r.note else "")


def decide(results: Sequence[GateResult], extra_reasons: Sequence[str] = ()) -> Verdict:
    """`extra_reasons` explain a validity failure in words (e.g. which rate the load
    generator could not hold); they are listed first."""
    integrity = [r for r in results if r.result == "fail" and r.kind == "integrity"]
    rollback = [r for r in results if r.result == "fail" and r.kind == "rollback"]
    invalid = [r for r in results if r.result == "fail" and r.kind == "validity"]
    failed = [r for r in results if r.result == "fail" and r.kind == "target"]
    unsure = [r for r in results if r.result in ("inconclusive", "error")]
    if integrity:
        return Verdict("ROLLBACK", [_reason(r) for r in integrity + rollback + failed])
    if invalid:
        return Verdict("INCONCLUSIVE", list(extra_reasons) + [_reason(r) for r in invalid + rollback + failed])
    if rollback:
        return Verdict("ROLLBACK", [_reason(r) for r in rollback + failed])
    if failed:
        return Verdict("HOLD", [_reason(r) for r in failed + unsure])
    if unsure:
        return Verdict("INCONCLUSIVE", [_reason(r) for r in unsure])
    return Verdict("PROMOTE", ["every applicable gate passed"])
