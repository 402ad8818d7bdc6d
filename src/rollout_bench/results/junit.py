"""junit.xml: one test case per gate: failure for fail, error for a gate that could not be
evaluated, skipped for inconclusive (no evidence) and for not applicable this week."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from rollout_bench.judge.gates import GateResult


def write_junit(path: Path, suite: str, results: Sequence[GateResult]) -> None:
    failures = sum(r.result == "fail" for r in results)
    errors = sum(r.result == "error" for r in results)
    skipped = sum(r.result in ("inconclusive", "n/a") for r in results)
    root = ET.Element("testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                      skipped=str(skipped), errors=str(errors))
    for r in results:
        case = ET.SubElement(root, "testcase", classname=suite, name=r.name)
        detail = f"observed {r.observed}, target {r.target}, samples {r.samples}. {r.note}".strip()
        if r.result == "fail":
            ET.SubElement(case, "failure", message=detail, type=r.kind)
        elif r.result == "error":
            ET.SubElement(case, "error", message=r.note)
        elif r.result in ("inconclusive", "n/a"):
            ET.SubElement(case, "skipped", message=f"{r.result}: {r.note}")
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
