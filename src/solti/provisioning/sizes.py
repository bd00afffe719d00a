"""Disk sizes as people type them and as Proxmox VE prints them.

PVE writes sizes with ``format_size`` (binary units, the largest unit that divides exactly:
``3584M``, ``32G``, ``528K``, bytes otherwise) and reads ``\\d+(\\.\\d+)?[KMGT]?``. ``Size`` keeps
an exact byte count so comparisons (resize only when smaller) never suffer from rounding, and
renders back in PVE's own form so what we send equals what PVE stores.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import total_ordering
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from solti.provisioning.bounds import MAX_SIZE_BYTES, quoted

__all__ = [
    "MAX_SIZE_BYTES",
    "Size",
    "SizeError",
    "format_size",
    "parse_size",
    "quoted",
]

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?\s*$", re.IGNORECASE)
HINT = "use a number with K, M, G or T, e.g. 32G"
_MAX_TEXT = 32  # no size people type is longer; longer text is refused before any parsing


class SizeError(ValueError):
    """A text is not a size; the message says what is allowed."""


def _too_large(value: object) -> SizeError:
    return SizeError(f"{quoted(value)!s} is too large; sizes go up to 1024P")


def parse_size(value: str | int | Size) -> int:
    """Return the exact byte count of ``value``; a bare number means bytes, as in PVE."""
    if isinstance(value, Size):
        return value.bytes
    if isinstance(value, bool):
        raise SizeError(f"{value!r} is not a size; {HINT}")
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f"{quoted(value)} is negative; a size is 0 or more")
        if value > MAX_SIZE_BYTES:
            raise _too_large(value)
        return value
    if not isinstance(value, str):
        raise SizeError(f"{value!r} is not a size; {HINT}")
    if len(value) > _MAX_TEXT:
        if _PATTERN.match(value[:_MAX_TEXT]) or value.strip()[:1].isdigit():
            raise _too_large(value)
        raise SizeError(f"{quoted(value)!r} is not a size; {HINT}")
    match = _PATTERN.match(value)
    if not match:
        raise SizeError(f"{value!r} is not a size; {HINT}")
    number, unit = match.groups()
    try:
        exact = Decimal(number) * _UNITS[unit.upper()]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise SizeError(f"{value!r} is not a size; {HINT}") from exc
    if exact != exact.to_integral_value():
        raise SizeError(f"{value!r} is not a whole number of bytes; {HINT}")
    if exact > MAX_SIZE_BYTES:
        raise _too_large(value)
    return int(exact)


def format_size(size: int) -> str:
    """Render bytes as PVE's ``format_size``: the largest binary unit that divides exactly."""
    if size == 0:
        return "0"
    for unit in ("T", "G", "M", "K"):
        factor = _UNITS[unit]
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


@total_ordering
class Size:
    """An exact, immutable byte count; a pydantic field type that validates from str or int."""

    __slots__ = ("_bytes",)

    def __init__(self, value: str | int | Size) -> None:
        object.__setattr__(self, "_bytes", parse_size(value))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Size is immutable")

    @classmethod
    def from_pve(cls, text: str) -> Size:
        """Read a size as PVE prints it (``3584M``, ``32G``, ``1048576``)."""
        return cls(text)

    @classmethod
    def gib(cls, count: int) -> Size:
        """``count`` GiB, the unit PVE's ``storage:N`` disk syntax uses."""
        return cls(count * _UNITS["G"])

    @property
    def bytes(self) -> int:
        return self._bytes

    @property
    def gib_ceil(self) -> int:
        """Whole GiB rounded up; for APIs that only take GiB (``local-lvm:32``)."""
        return -(-self._bytes // _UNITS["G"])

    def pve(self) -> str:
        """The PVE form (``format_size``)."""
        return format_size(self._bytes)

    def __str__(self) -> str:
        return self.pve()

    def __repr__(self) -> str:
        return f"Size({self.pve()!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Size):
            return self._bytes == other._bytes
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Size):
            return self._bytes < other._bytes
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Size, (self._bytes,))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Size:
            if isinstance(value, Size):
                return value
            return cls(value)

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda size: size.pve(), when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^\d+(\.\d+)?[KMGTP]?$",
            "examples": ["32G", "512M", "1T"],
            "description": "A size in bytes or with a binary unit K, M, G, T.",
        }
