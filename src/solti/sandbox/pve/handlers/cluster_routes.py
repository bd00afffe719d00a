"""Cluster-wide and access endpoints: version, nodes, resources, nextid, options, auth."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call


def version(call: Call) -> dict[str, str]:
    with call.cluster() as cluster:
        return cluster.nodes.version()


def nodes(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        return cluster.node_rows()


def resources(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        return cluster.resources(call.params.get("type"))


def nextid(call: Call) -> str:
    with call.cluster() as cluster:
        vmid = call.params.get("vmid")
        return cluster.guests.next_id(int(vmid) if vmid is not None else None)


def options(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        return cluster.options()


def ticket(call: Call) -> dict[str, Any]:
    username = call.params["username"]
    if call.params.get("realm") and "@" not in username:
        username = f"{username}@{call.params['realm']}"
    data: dict[str, Any] = call.auth.issue_ticket(username, call.params["password"])
    data["cap"] = {"vms": {}, "storage": {}, "access": {}, "nodes": {}, "dc": {}}
    return data


def permissions(call: Call) -> dict[str, dict[str, int]]:
    with call.cluster() as cluster:
        return cluster.access.permissions_for(call.params.get("path"))


def network(call: Call) -> list[dict[str, Any]]:
    """pve-manager ``PVE/API2/Network.pm`` ``index``: bridges the caller may not see are
    left out (``check_sdn_bridge``: ``SDN.Audit`` or ``SDN.Use`` on the bridge or a VLAN)."""
    with call.cluster() as cluster:
        rows = cluster.network.interfaces(call.node, call.params.get("type"))
        return [
            row
            for row in rows
            if row["type"] not in ("bridge", "OVSBridge")
            or cluster.access.may_see_bridge(f"/sdn/zones/localnetwork/{row['iface']}")
        ]
