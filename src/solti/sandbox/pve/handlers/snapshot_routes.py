"""Snapshot endpoints of a VM: qemu-server ``src/PVE/API2/Qemu.pm`` ``snapshot_list``,
``snapshot``, ``snapshot_cmd_idx``, ``update_snapshot_config``, ``get_snapshot_config``,
``rollback`` and ``delsnapshot``; the rules are in ``state/guest_snapshots.py``."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call
from solti.sandbox.pve.state.guests import digest
from solti.sandbox.pve.state.privileges import check_vm_perm


def snapshot_list(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        return cluster.snapshots.listed(call.node, call.vmid, digest(guest.conf))


def snapshot_create(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.snapshots.create(call.node, call.vmid, call.params, call.user)


def snapshot_index(call: Call) -> list[dict[str, str]]:
    """``snapshot_cmd_idx``: ``user => 'all'`` and no lookup; the two commands below it."""
    return [{"cmd": "rollback"}, {"cmd": "config"}]


def snapshot_config_get(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.snapshots.config(call.node, call.vmid, call.params["snapname"])


def snapshot_config_put(call: Call) -> None:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        cluster.snapshots.describe(
            call.node, call.vmid, call.params["snapname"], call.params.get("description")
        )
    return None


def rollback(call: Call) -> str:
    """``start=1`` needs ``VM.PowerMgmt`` as well, checked before the worker forks (the worker
    starts the VM itself, past ``vm_start``'s own permission check)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        if call.params.get("start") and call.identity and call.identity.tokenid:
            check_vm_perm(cluster.access, call.vmid, ["VM.PowerMgmt"])
        return cluster.snapshots.rollback(call.node, call.vmid, call.params, call.user)


def snapshot_delete(call: Call) -> str:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        return cluster.snapshots.delete(call.node, call.vmid, call.params, call.user)
