"""Which existing VMs still depend on a template, from the product's own records.

On LVM-thin (``local-lvm``, the default VM storage) a linked clone is a thin snapshot that
storage content lists without ``parent``, and PVE destroys a template while such clones exist
(pve-storage ``Storage.pm`` ``vdisk_free``: "LVM-thin allows deletion of still referenced base
volumes!"). So the guard cannot ask the storage: it asks the audit log which VMs were created
as linked clones of the template, keeps those whose VMID still exists and whose newest
successful create is that one, and adds what file storages report as a backing file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from solti.provisioning.audit_log import VM_CREATE


def linked_clones_on_record(audit: Any, template_vmid: int, existing: Iterable[int]) -> list[int]:
    """VMs in ``existing`` whose newest successful ``vm create`` or ``vm rebuild`` was a
    linked clone of ``template_vmid`` (a full clone does not need its template)."""
    alive = set(existing) - {template_vmid}
    newest: dict[int, Any] = {}
    # A ``vm rebuild`` re-clones the VM from another template: its newest record decides.
    made = [*audit.query(action=VM_CREATE, result="ok", limit=None),
            *audit.query(action="vm rebuild", result="ok", limit=None)]  # fmt: skip
    for record in sorted(made, key=lambda r: r.id, reverse=True):  # newest first
        if record.vmid is not None and record.vmid in alive:
            newest.setdefault(int(record.vmid), record)
    return sorted(
        vmid
        for vmid, record in newest.items()
        if record.template_vmid == template_vmid and not (record.params or {}).get("full")
    )


def linked_clones_on_storage(client: Any, node: str, vmid: int, config: dict[str, Any]) -> set[int]:
    """File storages (dir, NFS) list a linked clone's backing file as ``parent``
    (``../VMID/base-VMID-disk-N.qcow2``); LVM-thin lists none."""
    storages = sorted(
        {str(v).split(":", 1)[0] for k, v in config.items() if f"base-{vmid}-" in str(v)}
    )
    users: set[int] = set()
    for storage in storages:
        for item in client.storage_content(node, storage, "images"):
            parent = str(item.get("parent") or "")
            if f"base-{vmid}-" in parent and item.get("vmid") not in (None, vmid):
                users.add(int(item["vmid"]))
    return users
