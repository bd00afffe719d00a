"""Durations as people write them: ``30m``, ``12h``, ``7d``, ``2w``; the one parser for leases.

A whole number and one unit, nothing else: ``1.5d``, ``90s`` or ``7 days`` are refused with the
list, so a lease reads the same in the policy file, a slash command and the CLI. The number is
bounded (six digits) before any arithmetic, so ``99999999999999w`` is an error, not an
``OverflowError``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

__all__ = ["DURATION_HELP", "format_duration", "parse_duration"]

DURATION_HELP = "use a whole number and a unit: 30m, 12h, 7d or 2w"
_PATTERN = re.compile(r"^(\d{1,6})([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any, *, allow_zero: bool = False) -> timedelta:
    """``7d`` -> ``timedelta(days=7)``; ``ValueError`` naming the accepted forms otherwise.

    ``allow_zero`` lets ``0`` (bare) stand for "never" where a key says so (``leases.grace``).
    """
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    if isinstance(value, bool):
        text = ""
    if allow_zero and text in {"0", "0m", "0h", "0d", "0w"}:
        return timedelta(0)
    match = _PATTERN.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{value!r} is not a duration; {DURATION_HELP}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def format_duration(value: timedelta) -> str:
    """The shortest exact form: ``14d``, ``2w``, ``36h``, ``90m`` (``0`` for none)."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0"
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"
