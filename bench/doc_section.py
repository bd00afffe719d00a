"""Write a bench's figures into its own marked section of a doc (docs/performance.md).

Each bench owns the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``; a run
replaces it, and the first run appends it under ``heading``. Shared by every bench_*.py.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["write_section"]


def write_section(path: Path, name: str, text: str, heading: str | None = None) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text}\n{end}"
    current = path.read_text("utf-8") if path.exists() else "# Performance\n"
    if begin in current:
        pattern = re.escape(begin) + r".*?" + re.escape(end)
        current = re.sub(pattern, lambda _m: block, current, flags=re.S)
    else:
        title = f"## {heading}\n\n" if heading else ""
        current = current.rstrip("\n") + f"\n\n{title}{block}\n"
    path.write_text(current, "utf-8")
