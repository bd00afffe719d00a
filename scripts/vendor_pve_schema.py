#!/usr/bin/env python3
"""Vendor the subset of the official PVE API schema that the simulator serves.

The full api-viewer dump is 2 MB and carries prose we never read; the simulator only needs the
validation-relevant keys of the endpoints it implements. Keeping the subset generated (never
hand-edited) lets a test prove it still equals what this script derives from the pinned dump,
which is vendored gzip-compressed next to the subset (``apidata.json.gz``; see SOURCE.md there).

Usage: .venv/bin/python scripts/vendor_pve_schema.py [--apidata PATH] [--out DIR]
(PATH may be plain JSON or gzip-compressed JSON.)
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "solti" / "sandbox" / "pve" / "data"
# The whole pve-docs dump, kept in the repository (not in the wheel: package data is *.json).
DEFAULT_APIDATA = DEFAULT_OUT_DIR / "apidata.json.gz"
SUBSET_NAME = "apidata-subset.json"

# (path template, methods) the simulator serves; anything else answers 501 like PVE.
ENDPOINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/version", ("GET",)),
    ("/nodes", ("GET",)),
    ("/cluster/resources", ("GET",)),
    ("/cluster/nextid", ("GET",)),
    ("/cluster/options", ("GET",)),
    ("/access/permissions", ("GET",)),
    ("/access/ticket", ("POST",)),
    ("/nodes/{node}/network", ("GET",)),
    ("/nodes/{node}/storage", ("GET",)),
    ("/nodes/{node}/storage/{storage}/content", ("GET",)),
    ("/nodes/{node}/storage/{storage}/download-url", ("POST",)),
    ("/nodes/{node}/qemu", ("GET", "POST")),
    ("/nodes/{node}/qemu/{vmid}", ("GET", "DELETE")),
    ("/nodes/{node}/qemu/{vmid}/config", ("GET", "POST", "PUT")),
    ("/nodes/{node}/qemu/{vmid}/resize", ("PUT",)),
    ("/nodes/{node}/qemu/{vmid}/clone", ("POST",)),
    ("/nodes/{node}/qemu/{vmid}/template", ("POST",)),
    ("/nodes/{node}/qemu/{vmid}/status/current", ("GET",)),
    ("/nodes/{node}/qemu/{vmid}/status/start", ("POST",)),
    ("/nodes/{node}/qemu/{vmid}/status/stop", ("POST",)),
    ("/nodes/{node}/qemu/{vmid}/status/shutdown", ("POST",)),
    ("/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", ("GET",)),
    ("/nodes/{node}/tasks/{upid}/status", ("GET",)),
    ("/nodes/{node}/tasks/{upid}/log", ("GET",)),
    ("/nodes/{node}/qemu/{vmid}/snapshot", ("GET", "POST")),
    ("/nodes/{node}/qemu/{vmid}/snapshot/{snapname}", ("GET", "DELETE")),
    ("/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config", ("GET", "PUT")),
    ("/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback", ("POST",)),
)

# Schema keys that influence validation or are needed to describe a value; prose is dropped.
SCHEMA_KEYS = frozenset(
    {
        "additionalProperties",
        "alias",
        "default",
        "default_key",
        "enum",
        "format",
        "format_description",
        "items",
        "keyAlias",
        "max",
        "maxLength",
        "maximum",
        "min",
        "minLength",
        "minimum",
        "optional",
        "pattern",
        "properties",
        "requires",
        "type",
        "typetext",
    }
)
METHOD_KEYS = frozenset({"allowtoken", "method", "name", "protected", "proxyto"})


def _walk(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        yield node
        yield from _walk(node.get("children", []))


def _prune(schema: Any) -> Any:
    """Keep only SCHEMA_KEYS, recursing into property-string formats, items and properties."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in SCHEMA_KEYS:
            continue
        if key in ("format", "properties") and isinstance(value, dict):
            out[key] = {sub: _prune(sub_schema) for sub, sub_schema in value.items()}
        elif key in ("items", "additionalProperties", "requires") and isinstance(value, dict):
            out[key] = _prune(value)
        else:
            out[key] = value
    return out


def _method(info: dict[str, Any]) -> dict[str, Any]:
    out = {key: info[key] for key in METHOD_KEYS if key in info}
    out["parameters"] = _prune(info.get("parameters", {}))
    if "returns" in info:
        out["returns"] = _prune(info["returns"])
    return out


def build_subset(apidata: list[dict[str, Any]], source: str) -> dict[str, Any]:
    """Return the vendored document; raises KeyError naming an endpoint the dump lacks."""
    by_path = {node["path"]: node for node in _walk(apidata)}
    endpoints: dict[str, dict[str, Any]] = {}
    for path, methods in ENDPOINTS:
        node = by_path.get(path)
        if node is None:
            raise KeyError(f"path {path} not in {source}")
        info = node.get("info", {})
        entry: dict[str, Any] = {}
        for method in methods:
            if method not in info:
                raise KeyError(f"{method} {path} not in {source}")
            entry[method] = _method(info[method])
        endpoints[path] = entry
    return {
        "comment": "Generated by scripts/vendor_pve_schema.py from pve-docs api-viewer/apidata.js "
        "(PVE 9.1); see SOURCE.md. Do not edit by hand.",
        "endpoints": endpoints,
    }


def render(subset: dict[str, Any]) -> str:
    """Serialise deterministically so the committed file can be compared byte for byte."""
    return json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def load_apidata(path: Path = DEFAULT_APIDATA) -> list[dict[str, Any]]:
    """The api-viewer dump as JSON; a ``.gz`` file is decompressed on the fly."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        raw = gzip.decompress(raw)
    return json.loads(raw.decode("utf-8"))


def generate(apidata_path: Path = DEFAULT_APIDATA) -> str:
    return render(build_subset(load_apidata(apidata_path), apidata_path.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apidata", type=Path, default=DEFAULT_APIDATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    text = generate(args.apidata)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / SUBSET_NAME
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(text)} bytes, {len(ENDPOINTS)} paths)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
