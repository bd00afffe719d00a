"""The every-GET walk's expectations for one area (see ``tests/sim/get_walk/__init__.py``)."""

from __future__ import annotations

SAMPLE_IDS: dict[str, dict[str, str]] = {}
EXPECTED_ERRORS: dict[str, tuple[int, str]] = {
    # qemu-server PVE/API2/Qemu.pm snapshot ``get_snapshot_config``: the walk's VM has no
    # snapshot named ``missing``.
    "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config": (
        500,
        "snapshot 'missing' does not exist",
    ),
}
NOT_JSON: dict[str, str] = {}
PARAMS: dict[str, dict[str, str]] = {}
