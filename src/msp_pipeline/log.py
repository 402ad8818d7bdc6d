"""Structured JSON logs (phase 2): one line per event with traceId, syncId, tenantId..."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

_stream: TextIO = sys.stderr


def set_stream(stream: TextIO) -> None:
    global _stream
    _stream = stream


def log(module: str, context: str, message: str, level: str = "info", **fields: Any) -> None:
    record = {"ts": round(time.time(), 3), "level": level, "module": module, "context": context,
              "message": message, **fields}
    _stream.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    _stream.flush()
