"""The largest numbers anything accepts, before any policy is read (no imports: the CLI's
option parsing uses them without loading pydantic)."""

from __future__ import annotations

__all__ = ["MAX_CORES", "MAX_MEMORY", "MAX_SIZE_BYTES", "quoted"]

MAX_CORES = 512
MAX_MEMORY = 4_194_304  # MiB (4 TiB)
# The largest size (1 EiB, "1024P"): a 5,000-digit size is refused, never multiplied out.
MAX_SIZE_BYTES = 1024**6


def quoted(value: object, limit: int = 24) -> str:
    """``value`` as a message may repeat it: a 5,000-character input is shown cut short."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"
