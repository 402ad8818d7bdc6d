"""junit.xml: one test case per gate (failure for fail, skipped for inconclusive)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rollout_bench.judge.gates import GateResult


def write_junit(path: Path, suite: str, results: list[GateResult]) -> None:
    failures = sum(r.result == "fail" for r in results)
    skipped = sum(r.result in ("inconclusive", "skipped") for r in results)
    root = ET.Element("testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                      skipped=str(skipped), errors="0")
    for r in results:
        case = ET.SubElement(root, "testcase", classname=suite, name=r.name)
        detail = f"observed {r.observed}, target {r.target}, samples {r.samples}. {r.note}".strip()
        if r.result == "fail":
            ET.SubElement(case, "failure", message=detail, type=r.kind)
        elif r.result in ("inconclusive", "skipped"):
            ET.SubElement(case, "skipped", message=f"{r.result}: {r.note}")
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
