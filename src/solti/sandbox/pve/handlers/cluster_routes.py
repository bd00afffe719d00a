"""Cluster-wide and access endpoints: version, nodes, resources, nextid, options, auth."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call
from solti.sandbox.pve.state.access import ROOT


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
    """pve-access-control ``API2/AccessControl.pm`` ``permissions``: the effective privileges
    of ``userid`` (default: the caller; a user may ask for itself or its own tokens, anyone
    else needs ``Sys.Audit`` on ``/access``), on ``path`` or on every path. The simulator's
    users are root@pam (every privilege) and its token; any other has none."""
    authid = call.identity.task_user if call.identity else ""
    userid = call.params.get("userid") or authid
    owner = userid.split("!", 1)[0] if "!" in userid else None
    path = call.params.get("path")
    with call.cluster() as cluster:
        if userid != authid and owner != authid:
            cluster.access.check_privileges("/access", ["Sys.Audit"])
        if userid == ROOT:
            with cluster.access.acting_for(ROOT, None):
                return cluster.access.permissions_for(path)
        if userid == call.auth.token_id:
            with cluster.access.token_view():
                return cluster.access.permissions_for(path)
        return {path: {}} if path else {}


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
