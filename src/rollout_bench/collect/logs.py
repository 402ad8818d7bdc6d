"""The pipeline's own logs of a run (one JSON line per event, `level` in each): lines read,
error-level lines and a few of them as examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_EXAMPLES = 5


def log_figures(folder: Path) -> dict[str, Any]:
    lines = errors = 0
    examples: list[str] = []
    for path in sorted(folder.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            lines += 1
            try:
                level = json.loads(line).get("level")
            except (json.JSONDecodeError, AttributeError):
                level = "error" if "Traceback" in line or line.startswith("error:") else None
            if level in ("error", "critical", "fatal"):
                errors += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(f"{path.stem}: {line[:300]}")
    return {"lines": lines, "error_lines": errors, "examples": examples}
