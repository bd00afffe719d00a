"""``GET /nodes/{node}/qemu/{vmid}/migrate``: what stands in the way of migrating a VM.

qemu-server ``src/PVE/API2/Qemu.pm`` ``migrate_vm_precondition``, in its order: quorum
(``check_cfs_quorum``), the config (``load_config``), ``check_lock``; then ``running``; local
resources (``src/PVE/QemuMigrate/Helpers.pm`` ``check_local_resources``: ``hostusb``,
``hostpci``, ``ivshmem`` and ``usbN``/``hostpciN``/``serialN``/``parallelN``/``virtiofsN``,
a ``serial`` socket and a SPICE USB port excepted; the simulator has no resource mappings);
per other node the storages of the VM's volumes that are not enabled there
(``QemuServer.pm`` ``check_local_storage_availability``, ``unavailable_storages``), every node
without such a gap in ``allowed_nodes``; and ``local_disks``, the volumes on non-shared
storages with ``foreach_volid``'s attributes (``$check_vm_disks_local``: cd-roms but not
``none``, unused disks, snapshot volumes). The VMs are never HA-managed.
"""

from __future__ import annotations

import re
from typing import Any

from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.drives import is_drive_key, parse_drive, parse_size, split_volid
from solti.sandbox.pve.state.guests import check_lock

LOCAL_KEYS = re.compile(r"^(usb|hostpci|serial|parallel|virtiofs)\d+$")
VOLUME_KEY = re.compile(r"^unused\d+$")


def local_resources(conf: dict[str, str]) -> list[str]:
    found = [key for key in ("hostusb", "hostpci", "ivshmem") if conf.get(key)]
    for key in conf:
        if key.startswith("usb") and re.match(r"(host=)?spice$", conf[key].split(",")[0], re.I):
            continue
        if key.startswith("serial") and conf[key] == "socket":
            continue
        if LOCAL_KEYS.match(key):
            found.append(key)
    return found


def _volumes(conf: dict[str, str], volumes: dict[str, dict[str, Any]], attached: bool) -> None:
    """``foreach_volid``'s ``$test_volid`` over one config (current or a snapshot's)."""
    for key, value in conf.items():
        if not (is_drive_key(key) or VOLUME_KEY.match(key) or key == "vmstate"):
            continue
        drive = parse_drive(value)
        volid = drive.get("file")
        if not volid:
            continue
        attr = volumes.setdefault(volid, {"cdrom": 1, "is_unused": 0, "is_attached": 0})
        if drive.get("media") != "cdrom":
            attr["cdrom"] = 0
        unused = bool(VOLUME_KEY.match(key))
        attr["is_unused"] = int(attr["is_unused"] or unused)
        if attached and not unused:
            attr["is_attached"] = 1
        attr["is_cloudinit"] = int("cloudinit" in volid)
        attr["is_vmstate"] = int(key == "vmstate")
        if "size" in drive and "size" not in attr:
            attr["size"] = parse_size(drive["size"])
        if is_drive_key(key):
            attr["drivename"] = key


def migrate_precondition(call: Call) -> dict[str, Any]:
    with call.cluster() as cluster:
        cluster.nodes.check_quorum()
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        check_lock(guest)
        volumes: dict[str, dict[str, Any]] = {}
        _volumes(guest.conf, volumes, True)
        for snapshot in guest.snapshots.values():
            _volumes(snapshot.conf, volumes, False)
        allowed, not_allowed = [], {}
        for node in cluster.nodes.names:
            if node == call.node:
                continue
            missing = sorted(
                {
                    parts[0]
                    for volid in volumes
                    if (parts := split_volid(volid)) and parts[0] in cluster.storages
                    if not cluster.storages.enabled_on(parts[0], node)
                }
            )
            if missing:
                not_allowed[node] = {"unavailable_storages": missing}
            else:
                allowed.append(node)
        local_disks = []
        for volid, attr in volumes.items():
            parts = split_volid(volid)
            if parts and parts[0] in cluster.storages and cluster.storages[parts[0]].shared:
                continue
            if attr["cdrom"] and volid == "none":
                continue
            local_disks.append({**attr, "volid": volid})
        return {
            "running": int(guest.running),
            "allowed_nodes": allowed,
            "not_allowed_nodes": not_allowed,
            "local_disks": local_disks,
            "local_resources": local_resources(guest.conf),
            "mapped-resources": [],
            "mapped-resource-info": {},
            "has-dbus-vmstate": 1,
        }


MIGRATE_READS: dict[str, Handler] = {"/nodes/{node}/qemu/{vmid}/migrate": migrate_precondition}
