"""Template metadata kept in the VM's notes (PVE ``description``), readable by people and by us.

The notes are the template's own record of where it came from, so listing templates and update
detection work from PVE alone, even when the audit log is elsewhere. The text is a short
headline followed by a ``solti:`` YAML block; parsing reads only that block, so a person may add
lines above it in the web UI without breaking anything. Pure: text in, values out.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from solti.provisioning.errors import ConfigError
from solti.provisioning.yaml_guard import parse_guarded_yaml

__all__ = ["MARKER", "parse_notes", "render_notes"]

MARKER = "solti:"
_NOTES = Path("notes")  # what a refused block would be called (never shown)

# The keys we write, in the order people read them.
KEYS = (
    "distribution",
    "version",
    "version_source",
    "image_url",
    "image_file",
    "checksum",
    "checksum_algorithm",
    "virtual_size",
    "disk_size",
    "hardware",
    "builder",
    "build_date",
    "request_id",
    "build",  # a build made on several nodes (``--all-nodes``): its id, shared by the copies
    "copy",  # which copy this template is: "2 of 3 (pve2)"
)


def render_notes(meta: dict[str, Any]) -> str:
    """The ``description`` value: a headline and the ``solti:`` block (no trailing spaces)."""
    ordered = {k: _plain(meta[k]) for k in KEYS if meta.get(k) is not None}
    ordered.update({k: _plain(v) for k, v in meta.items() if k not in KEYS and v is not None})
    headline = f"Solti template: {meta.get('distribution', '?')}"
    if meta.get("version") == "unknown":
        headline += " (version unknown)"
    elif meta.get("version"):
        headline += f" {meta['version']}"
    block = yaml.safe_dump({"solti": ordered}, sort_keys=False, default_flow_style=False)
    lines = [line.rstrip() for line in block.splitlines()]
    return "\n".join([headline, "", *lines])


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool, list)):
        return value
    return str(value)


def parse_notes(text: str | None) -> dict[str, Any]:
    """The metadata of a ``solti:`` block, or ``{}`` when there is none or it is damaged."""
    if not text:
        return {}
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == MARKER)
    except StopIteration:
        return {}
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if line and not line[0].isspace():
            break
        block.append(line)
    # Anyone with VM.Config.Options on the template may edit its notes: an alias bomb there
    # must cost a refusal, not the CLI's memory, hence the guarded parser (libyaml when present).
    try:
        loaded = parse_guarded_yaml("\n".join(block), _NOTES)
    except ConfigError:
        return {}
    meta = loaded.get("solti") if isinstance(loaded, dict) else None
    if not isinstance(meta, dict):
        return {}
    return {str(k): (str(v) if isinstance(v, datetime) else v) for k, v in meta.items()}
