"""Refuse, while planning, the cross-node clones PVE would refuse (with PVE's own words).

qemu-server ``src/PVE/API2/Qemu.pm`` ``clone_vm``: with ``target`` another node, a target
``storage`` must be shared ("can't clone to non-shared storage 'Y'"), and any volume of the
source (disks, CD-ROMs, the cloud-init drive) on local storage makes the VM "local"
(``$check_storage_access_clone``): "can't clone VM to node 'X' (VM uses local storage)",
even when the target storage is shared.
"""

from __future__ import annotations

import re
from typing import Any

_DRIVE_KEY = re.compile(r"^(?:ide|sata|scsi|virtio|efidisk|tpmstate)\d+$")


def cross_node_refusal(
    client: Any,
    template_node: str,
    template_vmid: int,
    node: str,
    target_storage: str | None,
) -> str | None:
    """PVE's reason to refuse cloning ``template_vmid`` to ``node``, or None."""
    if node == template_node:
        return None
    if node not in {str(row.get("node")) for row in client.nodes()}:
        return None  # ``check_node_exists`` comes first; that error is someone else's
    shared = {
        str(row["storage"]): bool(row.get("shared"))
        for row in client.storages(template_node)
        if "storage" in row
    }
    if target_storage and not shared.get(target_storage, False):
        return f"can't clone to non-shared storage '{target_storage}'"
    config = client.vm_config(template_node, template_vmid)
    for key, value in config.items():
        if not _DRIVE_KEY.match(key):
            continue
        volid = str(value).split(",", 1)[0]
        if ":" not in volid or volid in ("none", "cdrom"):
            continue
        if not shared.get(volid.split(":", 1)[0], False):
            return f"can't clone VM to node '{node}' (VM uses local storage)"
    return None
