"""The verdict from gate results: ROLLBACK when a rollback trigger fails, else HOLD when a
target fails, else INCONCLUSIVE when a gate lacks its minimum sample, else PROMOTE."""

from __future__ import annotations

from dataclasses import dataclass

from rollout_bench.judge.gates import GateResult

EXIT_CODES = {"PROMOTE": 0, "HOLD": 1, "ROLLBACK": 1, "INCONCLUSIVE": 1}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: list[str]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def _reason(r: GateResult) -> str:
    observed = "no value" if r.observed is None else f"{r.observed:.4g}"
    if r.result == "inconclusive":
        return f"{r.name}: inconclusive ({r.note})"
    return f"{r.name}: observed {observed}, target {r.target}" + (f" ({r.note})" if r.note else "")


def decide(results: list[GateResult]) -> Verdict:
    rollback = [r for r in results if r.result == "fail" and r.kind == "rollback"]
    failed = [r for r in results if r.result == "fail" and r.kind != "rollback"]
    unsure = [r for r in results if r.result == "inconclusive"]
    if rollback:
        return Verdict("ROLLBACK", [_reason(r) for r in rollback + failed])
    if failed:
        return Verdict("HOLD", [_reason(r) for r in failed + unsure])
    if unsure:
        return Verdict("INCONCLUSIVE", [_reason(r) for r in unsure])
    return Verdict("PROMOTE", ["every gate passed"])
