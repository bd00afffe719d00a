"""The whole PVE 9.1 API schema (``data/apidata.json.gz``): every path, its children, its answers.

The vendored subset (``data/apidata-subset.json``) drives the endpoints the simulator models;
this catalog covers the rest of the API, so every GET path of real PVE is routed (read-only
clients walk far more of the API than the product does) and its ``returns`` schema is known.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

FULL_DATA_FILE = Path(__file__).with_name("data") / "apidata.json.gz"


@cache
def _tree() -> list[dict[str, Any]]:
    with gzip.open(FULL_DATA_FILE, "rt", encoding="utf-8") as handle:
        data: list[dict[str, Any]] = json.load(handle)
    return data


@cache
def _nodes() -> dict[str, dict[str, Any]]:
    """Every tree node by its path template."""
    out: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        out[node["path"]] = node
        for child in node.get("children") or []:
            walk(child)

    for top in _tree():
        walk(top)
    return out


def endpoints() -> dict[str, dict[str, Any]]:
    """``{template: {method: info}}`` for the whole API, in the subset file's shape."""
    return {path: dict(node["info"]) for path, node in _nodes().items() if node.get("info")}


def children(template: str) -> list[str]:
    """The last path component of each child of ``template`` (``config``, ``status``...)."""
    node = _nodes()[template]
    return [child["path"].rsplit("/", 1)[1] for child in node.get("children") or []]


def returns(method: str, template: str) -> dict[str, Any]:
    """The ``returns`` schema of one method."""
    info: dict[str, Any] = _nodes()[template]["info"][method]
    return info.get("returns") or {}


def get_paths() -> list[str]:
    """Every path template with a GET method, in the schema's order."""
    return [path for path, node in _nodes().items() if "GET" in (node.get("info") or {})]
