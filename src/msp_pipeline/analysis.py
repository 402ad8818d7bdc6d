"""What one analysis produced, on either path: the figures the probe and the gate read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from msp_pipeline.model import Finding


@dataclass
class AnalyzerStats:
    """One analyzer's share (legacy: mfa, policy, license, stale, alert-manager)."""

    name: str
    queries: int = 0
    rows_read: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)


@dataclass
class AnalysisOutcome:
    path: str  # 'legacy' | 'unified'
    tenant_id: str
    data_source_id: str
    sync_id: str
    trace_id: str
    queries: int
    rows_read: int
    seconds: float
    findings: list[Finding]
    per_analyzer: list[AnalyzerStats] = field(default_factory=list)

    def findings_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(f.alert_type for f in self.findings).items()))


# An intended alert change: (kind, entity id, alert type, subject); kind is created, updated
# or resolved. Both alert managers key alerts by the entity's database id, which both paths share.
ChangeKey = tuple[str, int, str, str]
CHANGE_KINDS = ("created", "updated", "resolved")


def change_counts(changes: list[ChangeKey]) -> dict[str, int]:
    return {kind: sum(1 for c in changes if c[0] == kind) for kind in CHANGE_KINDS}
