"""The common end of a benchmark script: its report printed as one JSON line, and written to a file."""
from __future__ import annotations

import json
from pathlib import Path


def emit(report: dict, path: Path | None) -> int:
    """Write `report` (indented) to `path` when given, print it as one line; the script's exit status (0)."""
    if path:
        path.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0
