"""PVE ``returns`` schemas as JSON Schema, to check the simulator's answers with jsonschema.

PVE's dialect (``pve-common`` ``PVE/JSONSchema.pm``): an object property is required unless
``optional``; booleans travel as ``0``/``1`` and integers may be digit strings;
``additionalProperties`` forbids extra keys only when it is given as 0; ``pattern`` and
``format`` are Perl validators and are not carried over.
"""

from __future__ import annotations

from typing import Any

import jsonschema

TYPES = {
    "string": {"type": "string"},
    # Perl scalars: PVE's check_type takes "101" as an integer (``/cluster/nextid`` sends it).
    "integer": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?\d+$"}]},
    "number": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?[\d.eE+-]+$"}]},
    "boolean": {"enum": [0, 1, True, False]},
    "array": {"type": "array"},
    "object": {"type": "object"},
    "null": {"type": "null"},
}


def to_json_schema(pve: dict[str, Any]) -> dict[str, Any]:
    """Translate one PVE schema node (recursively)."""
    out: dict[str, Any] = dict(TYPES.get(pve.get("type", ""), {}))
    if "enum" in pve and pve.get("type") != "boolean":
        out["enum"] = list(pve["enum"])
    for key in ("minimum", "maximum"):
        if key in pve and pve.get("type") in ("integer", "number"):
            out[key] = float(pve[key])  # the dump sometimes writes limits as strings
    if isinstance(pve.get("items"), dict):
        out["items"] = to_json_schema(pve["items"])
    if isinstance(pve.get("properties"), dict):
        props = pve["properties"]
        out["properties"] = {k: to_json_schema(v) for k, v in props.items()}
        out["required"] = sorted(k for k, v in props.items() if not v.get("optional"))
        if pve.get("additionalProperties") == 0:
            out["additionalProperties"] = False
    return out


def validate(data: Any, returns: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``data`` fits the PVE ``returns`` schema."""
    jsonschema.validate(data, to_json_schema(returns))
