"""Requests are routed as PVE 9.1 routes them: path parameters, 501s, task UPIDs (pure)."""

from __future__ import annotations

import pytest

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.schema import Schema
from tests.sim.schema_support import BAD_VMID, UPID, errors_of, type_error


def test_path_params_are_validated(schema: Schema) -> None:
    assert errors_of(schema, "GET", "/nodes/pve/qemu/abc/config", {}) == {
        "vmid": type_error("integer", "abc")
    }
    assert errors_of(schema, "GET", "/nodes/pve/qemu/99/status/current", {}) == {"vmid": BAD_VMID}
    assert errors_of(schema, "GET", "/nodes/pve_1/qemu", {}) == {
        "node": "invalid format - value does not look like a valid node name\n"
    }
    assert errors_of(schema, "GET", "/nodes/pve/storage/x/content", {}) == {
        "storage": "invalid format - storage ID 'x' contains illegal characters\n"
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nodes/pve/qemu/500/clone"),
        ("POST", "/nodes/pve/qemu/500/status/current"),
        ("GET", "/nodes/pve/lxc"),
        ("DELETE", "/cluster/nextid"),
        ("GET", "/nodes/pve/qemu/500/config/extra"),
        ("GET", "/"),
    ],
)
def test_unknown_path_or_method_is_501(schema: Schema, method: str, path: str) -> None:
    with pytest.raises(PveError) as info:
        schema.resolve(method, path)
    assert info.value.status == 501
    assert info.value.message == f"Method '{method} {path}' not implemented"
    assert info.value.reason == info.value.message
    assert info.value.errors is None


def test_501_text_is_pves(schema: Schema) -> None:
    with pytest.raises(PveError) as info:
        schema.resolve("GET", "/nodes/pve/qemu/500/clone")
    assert str(info.value) == "Method 'GET /nodes/pve/qemu/500/clone' not implemented"


def test_upid_with_reserved_characters_routes_to_task_endpoints(schema: Schema) -> None:
    route = schema.resolve("GET", f"/nodes/pve/tasks/{UPID}/log")
    assert route.template == "/nodes/{node}/tasks/{upid}/log"
    assert route.path_params == {"node": "pve", "upid": UPID}
