"""The every-GET walk's expectations for one area (see ``tests/sim/get_walk/__init__.py``)."""

from __future__ import annotations

SAMPLE_IDS: dict[str, dict[str, str]] = {}
EXPECTED_ERRORS: dict[str, tuple[int, str]] = {}
NOT_JSON: dict[str, str] = {}
PARAMS: dict[str, dict[str, str]] = {}
