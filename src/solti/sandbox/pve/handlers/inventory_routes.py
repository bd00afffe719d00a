"""Reads inventory and monitoring clients make of storages, VMs and nodes, from the model.

Each answer follows the handler named in its docstring, with the simulator's own objects.
"""

from __future__ import annotations

import hashlib
from typing import Any

from solti.sandbox.pve.handlers import Call
from solti.sandbox.pve.state.guests import digest
from solti.sandbox.pve.state.nodes import PVE_VERSION


def storage_config_rows(call: Call) -> list[dict[str, Any]]:
    """pve-storage ``PVE/API2/Storage/Config.pm`` ``index``: each storage.cfg section the
    token may ``Datastore.Audit`` or ``.AllocateSpace``, optionally of one ``type``."""
    with call.cluster() as cluster:
        rows = []
        for storage_id in cluster.storages:
            held = cluster.access.permissions_for(f"/storage/{storage_id}")
            if not {"Datastore.Audit", "Datastore.AllocateSpace"} & set(
                held[f"/storage/{storage_id}"]
            ):
                continue
            row = _storage_section(cluster, storage_id)
            if call.params.get("type") in (None, row["type"]):
                rows.append(row)
        return rows


def storage_config(call: Call) -> dict[str, Any]:
    """pve-storage ``PVE/API2/Storage/Config.pm`` ``read`` (``$api_storage_config``)."""
    with call.cluster() as cluster:
        cluster.storages.require(call.params["storage"])
        return _storage_section(cluster, call.params["storage"])


def _storage_section(cluster: Any, storage_id: str) -> dict[str, Any]:
    """One section of storage.cfg as ``$api_storage_config`` returns it: the parsed options
    (``shared`` set for shared types by ``Plugin.pm`` ``parse_config``), ``storage`` and the
    file's ``digest``; the installer's ``local-lvm`` is thin pool ``data`` of VG ``pve``."""
    storage = cluster.storages[storage_id]
    row: dict[str, Any] = {
        "storage": storage.id,
        "type": storage.type,
        "content": ",".join(sorted(storage.content)),
        "digest": _storage_cfg_digest(cluster),
    }
    if storage.path:
        row["path"] = storage.path
    if storage.type == "lvmthin":
        row.update(thinpool="data", vgname="pve")
    if storage.shared:
        row["shared"] = 1
    return row


def _storage_cfg_digest(cluster: Any) -> str:
    text = "".join(
        f"{s.type}: {s.id}\n\tcontent {','.join(sorted(s.content))}\n"
        for s in (cluster.storages[i] for i in cluster.storages)
    )
    return hashlib.sha1(text.encode()).hexdigest()


def storage_status(call: Call) -> dict[str, Any]:
    """pve-storage ``PVE/API2/Storage/Status.pm`` ``read_status``: the storage's entry of
    ``storage_info`` (type, content, shared, active, enabled, total, used, avail)."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        rows = cluster.storages.status(call.node, {"storage": call.params["storage"]})
        if not rows:
            raise_no_storage()
        row = dict(rows[0])
        for key in ("storage", "used_fraction"):
            row.pop(key, None)
        return row


def raise_no_storage() -> None:
    from solti.sandbox.pve.api_errors import param_error

    raise param_error({"storage": "No such storage."})


def vm_pending(call: Call) -> list[dict[str, Any]]:
    """qemu-server ``PVE/API2/Qemu.pm`` ``vm_pending`` via pve-guest-common
    ``GuestHelpers.pm`` ``config_with_pending_array``: one ``{key, value}`` per config key
    (the simulator applies every change at once, so nothing is pending), ``digest`` included,
    ``cipassword`` masked."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        conf = dict(guest.conf)
        conf_digest = digest(guest.conf)
    if "cipassword" in conf:
        conf["cipassword"] = "**********"
    conf["digest"] = conf_digest
    return [{"key": key, "value": value} for key, value in conf.items()]


def cluster_tasks(call: Call) -> list[dict[str, Any]]:
    """pve-manager ``PVE/API2/Cluster.pm`` ``tasks``: pmxcfs's task list of every node,
    token tasks split into ``user``/``tokenid``; all of them for ``Sys.Audit`` on ``/``, else
    the caller's own."""
    with call.cluster() as cluster:
        everyone = cluster.access.has("/", "Sys.Audit")
        rows = cluster.tasks.cluster_list()
    caller = call.user.partition("!")[0]
    return [row for row in rows if everyone or row["user"] == caller]


def node_status(call: Call) -> dict[str, Any]:
    """pve-manager ``PVE/API2/Nodes.pm`` ``status``: uptime, load, kernel, boot mode, CPU,
    memory, swap, version and root filesystem, from the simulated node's figures."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        stats = cluster.nodes.stats(
            call.node, cluster.now, cluster.node_memory_used().get(call.node, 0)
        )
        hardware = cluster.nodes.hardware()
    used = stats["mem"]
    total = stats["maxmem"]
    return {
        "uptime": stats["uptime"],
        "idle": 0,
        "loadavg": ["0.08", "0.05", "0.01"],
        "kversion": hardware["kversion"],
        "current-kernel": dict(hardware["current-kernel"]),
        "boot-info": {"mode": "efi", "secureboot": 0},
        "cpuinfo": dict(hardware["cpuinfo"]),
        "cpu": stats["cpu"],
        "wait": 0,
        "memory": {"free": total - used, "total": total, "available": total - used, "used": used},
        "ksm": {"shared": 0},
        "swap": {"free": 0, "total": 0, "used": 0},
        "pveversion": f"pve-manager/{PVE_VERSION['version']}/{PVE_VERSION['repoid']}",
        "rootfs": {
            "total": stats["maxdisk"],
            "avail": stats["maxdisk"] - stats["disk"],
            "used": stats["disk"],
            "free": stats["maxdisk"] - stats["disk"],
        },
    }
