"""comparison_figures' arithmetic over analysis_runs.comparison records."""

from __future__ import annotations

from typing import Any

from rollout_bench.collect.comparison import figures_of


def record(mismatches: list[dict[str, Any]], legacy_statements: int, **extra: Any) -> dict[str, Any]:
    by_type: dict[str, dict[str, int]] = {}
    for m in mismatches:
        by_type.setdefault(m["alertType"], {"unified-only": 0, "legacy-only": 0})[m["side"]] += m["count"]
    return {"raced": False, "matched": 10, "mismatched": sum(m["count"] for m in mismatches), "ignored": 2,
            "mismatches": mismatches, "mismatchedByType": by_type, "ignoredByRule": {"policy_gap_never_raised": 2},
            "alertChanges": {"unified": {"created": 3, "updated": 0, "resolved": 1},
                             "legacy": {"created": 2, "updated": 0, "resolved": 0},
                             "followsFindings": 1, "known": {"mfa_resolve_bug": 1}, "mismatched": 0},
            "cost": {"unified": {"statements": 6, "rowsRead": 50, "seconds": 0.01},
                     "legacy": {"statements": legacy_statements, "rowsRead": 300, "seconds": 0.2}}, **extra}


def test_figures_sum_records_pair_severities_and_keep_raced_apart() -> None:
    severity_change = [{"side": "unified-only", "entity": "erin", "alertType": "mfa_not_enforced",
                        "severity": "high", "count": 1},
                       {"side": "legacy-only", "entity": "erin", "alertType": "mfa_not_enforced",
                        "severity": "medium", "count": 1}]
    records = [("t1", "s1", record([], 100)), ("t1", "s2", record(severity_change, 200)),
               ("t2", "s3", {"raced": True, "reason": "snapshot", "matched": 0, "mismatched": 0, "ignored": 0})]
    figures = figures_of(records)
    assert (figures["analyses"], figures["raced"], figures["matched"], figures["mismatched"]) == (3, 1, 20, 2)
    assert figures["by_type"] == {"mfa_not_enforced": {"legacy-only": 1, "unified-only": 1}}
    assert figures["examples"] == [{"tenant": "t1", "sync": "s2", "entity": "erin", "alert_type": "mfa_not_enforced",
                                    "unified": "high", "legacy": "medium"}]
    assert figures["ignored_by_rule"] == {"policy_gap_never_raised": 4}
    assert figures["alert_changes"]["mfa_resolve_bug"] == 2 and figures["alert_changes"]["unified"]["created"] == 6
    cost = figures["cost"]
    assert cost["legacy"]["statements_per_full_analysis"] == {"median": 150.0, "max": 200.0}
    assert cost["unified"]["analyses"] == 2 and cost["reduction"] == round(1 - 12 / 300, 4)


def test_no_compared_analysis_gives_no_reduction() -> None:
    figures = figures_of([])
    assert figures["analyses"] == 0 and figures["cost"]["reduction"] is None
    assert figures["cost"]["legacy"]["statements_per_full_analysis"] == {"median": None, "max": None}
