"""Node network interfaces, as ``GET /nodes/{node}/network`` lists them.

Every node starts with a physical NIC ``eno1`` and the Linux bridge ``vmbr0`` on it, the layout
the PVE installer writes to ``/etc/network/interfaces``. Tests remove or add bridges to prove that
``solti check`` really looks (a VM on a missing bridge fails to start on real PVE).
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.nodes import Nodes

# `type` filter values that mean "several types" (pve-manager API2/Network.pm `$bridge_type`).
_TYPE_GROUPS = {
    "any_bridge": {"bridge", "OVSBridge"},
    "any_local_bridge": {"bridge", "OVSBridge"},
}


def default_interfaces(index: int) -> list[dict[str, Any]]:
    """The installer's layout for node number ``index`` (0-based): eno1 enslaved to vmbr0."""
    address = f"192.168.100.{11 + index}"
    return [
        {
            "iface": "eno1",
            "type": "eth",
            "method": "manual",
            "method6": "manual",
            "families": ["inet"],
            "exists": 1,
            "active": 1,
            "autostart": 0,
            "priority": 3,
        },
        bridge_row("vmbr0", ports="eno1", address=address, gateway="192.168.100.1"),
    ]


def bridge_row(
    iface: str, *, ports: str = "", address: str | None = None, gateway: str | None = None
) -> dict[str, Any]:
    """A Linux bridge entry with the keys PVE returns for one."""
    row: dict[str, Any] = {
        "iface": iface,
        "type": "bridge",
        "method": "static" if address else "manual",
        "method6": "manual",
        "families": ["inet"],
        "bridge_ports": ports,
        "bridge_stp": "off",
        "bridge_fd": "0",
        "autostart": 1,
        "active": 1,
        "priority": 5,
    }
    if address:
        row.update(address=address, netmask="24", cidr=f"{address}/24")
    if gateway:
        row["gateway"] = gateway
    return row


class Network:
    """Per-node interface lists, each node starting with the installer's layout."""

    def __init__(self, nodes: Nodes) -> None:
        self._nodes = nodes
        self._interfaces = {n: default_interfaces(i) for i, n in enumerate(nodes.names)}

    def interfaces(self, node: str, kind: str | None = None) -> list[dict[str, Any]]:
        """``GET /nodes/{node}/network[?type=...]``."""
        self._nodes.require(node)
        wanted = _TYPE_GROUPS.get(kind or "", {kind} if kind else None)
        rows = self._interfaces.get(node, [])
        return [dict(row) for row in rows if wanted is None or row["type"] in wanted]

    def add_bridge(self, node: str, iface: str, ports: str = "") -> None:
        """Another Linux bridge on ``node`` (replacing an interface of that name)."""
        self._nodes.require(node)
        self.remove_interface(node, iface)
        self._interfaces[node].append(bridge_row(iface, ports=ports))

    def remove_interface(self, node: str, iface: str) -> None:
        """Drop ``iface`` from ``node`` (e.g. a node without ``vmbr0``)."""
        if node not in self._interfaces:
            raise PveError(500, f"no such node '{node}'")
        self._interfaces[node] = [r for r in self._interfaces[node] if r["iface"] != iface]
