"""``GET /nodes/{node}/network``: vmbr0 on eno1 on every node, the ``type`` filter, PVE's errors."""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer import ResourceException

from solti.sandbox.pve import PveSimulator


@pytest.mark.parametrize("node", ["pve", "pve2", "pve3"])
def test_every_node_has_vmbr0_on_eno1(api: Any, node: str) -> None:
    rows = {row["iface"]: row for row in api.nodes(node).network.get()}
    assert set(rows) == {"eno1", "vmbr0"}
    bridge = rows["vmbr0"]
    assert bridge["type"] == "bridge" and bridge["bridge_ports"] == "eno1"
    assert bridge["active"] == 1 and bridge["autostart"] == 1
    assert bridge["cidr"] == f"{bridge['address']}/24"
    assert rows["eno1"]["type"] == "eth"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("bridge", ["vmbr0"]), ("any_bridge", ["vmbr0"]), ("eth", ["eno1"]), ("bond", [])],
)
def test_type_filter(api: Any, kind: str, expected: list[str]) -> None:
    assert [row["iface"] for row in api.nodes("pve").network.get(type=kind)] == expected


def test_bridges_can_be_removed_and_added_per_node(pve: PveSimulator, api: Any) -> None:
    pve.state.remove_interface("pve2", "vmbr0")
    pve.state.add_bridge("pve2", "vmbr1", ports="eno1")
    assert [r["iface"] for r in api.nodes("pve2").network.get(type="bridge")] == ["vmbr1"]
    assert [r["iface"] for r in api.nodes("pve").network.get(type="bridge")] == ["vmbr0"]
    pve.reset()
    assert [r["iface"] for r in api.nodes("pve2").network.get(type="bridge")] == ["vmbr0"]


def test_bad_type_and_unknown_parameter_are_400(api: Any) -> None:
    with pytest.raises(ResourceException) as caught:
        api.nodes("pve").network.get(type="ovs")
    assert caught.value.status_code == 400
    assert "does not have a value in the enumeration" in caught.value.errors["type"]
    with pytest.raises(ResourceException) as caught:
        api.nodes("pve").network.get(iface="vmbr0")
    assert caught.value.status_code == 400 and "iface" in caught.value.errors


def test_unknown_node_is_pves_hostname_error(api: Any) -> None:
    with pytest.raises(ResourceException) as caught:
        api.nodes("nope").network.get()
    assert caught.value.status_code == 500
    assert "hostname lookup 'nope' failed" in caught.value.content
