"""What ``create_vm`` checks in its own code: its ``permissions`` are only ``user => 'all'``.

qemu-server ``src/PVE/API2/Qemu.pm`` ``create_vm`` ("check inside"), after
``check_cfs_quorum`` and in this order:

1. ``state/privileges.py`` ``check_vm_create``: the pool exists, ``Datastore.AllocateSpace``
   on the default ``storage``, ``Sys.Console`` for ``ha-managed``, ``VM.PowerMgmt`` for
   ``start``, ``VM.Allocate`` on ``/vms/{vmid}`` (bare ``raise_perm_exc()``);
2. ``$check_storage_access`` (``check_storage_access`` below): per drive, nothing for an
   empty or cloud-init drive, ``Sys.Console`` on ``/`` for the host's CD-ROM,
   ``Datastore.AllocateSpace`` on the storage of a new disk, pve-storage ``Storage.pm``
   ``check_volume_access`` for an existing volume and for an ``import-from`` source
   (``VM.Clone`` on the source VM for a VM's disk); ``check_volume_access`` of each
   ``unusedN``; ``Datastore.AllocateSpace`` on ``vmstatestorage``;
3. ``$check_vm_modify_config_perm`` (each option's class) and ``$check_vm_create_serial_perm``;
4. ``PVE::QemuServer::check_bridge_access`` (``SDN.Use`` per bridge).

``$update_vm_api`` (``update_vm``, ``update_vm_async``) makes the same storage check after its
own ``$check_vm_modify_config_perm`` calls (``check_update`` below), with no default storage.

Root@pam by ticket passes each (``Access.acting_for``); USB, PCI and directory mappings are
not modelled, so their checks are not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.auth import Identity
from solti.sandbox.pve.handlers.volume_names import check_access, parse
from solti.sandbox.pve.state import Cluster
from solti.sandbox.pve.state.config_values import NOT_CONFIG, stored, update_request
from solti.sandbox.pve.state.drives import NEW_DISK_RE, is_drive_key, parse_drive
from solti.sandbox.pve.state.privileges import (
    check_bridge_access,
    check_modify_config,
    check_vm_create,
    check_vm_perm,
)

ROOT = "root@pam"


def check_create(cluster: Cluster, identity: Identity | None, params: Mapping[str, Any]) -> None:
    """All of ``create_vm``'s own permission checks, in its order (see the module)."""
    access = cluster.access
    vmid = int(params["vmid"])
    check_vm_create(access, params)
    settings = {k: stored(v) for k, v in params.items() if k not in NOT_CONFIG}
    if not settings:
        return
    if "cdrom" in settings:  # ``$resolve_cdrom_alias``
        settings["ide2"] = f"{settings.pop('cdrom')},media=cdrom"
    user = identity.task_user if identity else ROOT
    check_storage_access(cluster, user, vmid, settings, params.get("storage"))
    check_modify_config(access, vmid, settings)
    check_serial(cluster, user, vmid, settings)
    check_bridge_access(access, settings)


def check_update(cluster: Cluster, identity: Identity | None, params: Mapping[str, Any]) -> None:
    """qemu-server ``API2/Qemu.pm`` ``$update_vm_api`` before ``$load_and_check_config``:
    "no options specified", ``$resolve_cdrom_alias``, ``$check_vm_modify_config_perm`` of the
    deleted options, then of the set ones, ``$check_storage_access`` (no default storage),
    ``check_bridge_access``. The drive checks that need the current config
    (``$check_drive_perms``) follow in ``state/configs.py`` ``update``."""
    access = cluster.access
    vmid = int(params["vmid"])
    settings, deletes, _reverts = update_request(params)
    if "cdrom" in settings:
        settings["ide2"] = f"{settings.pop('cdrom')},media=cdrom"
    check_modify_config(access, vmid, ["ide2" if d == "cdrom" else d for d in deletes])
    check_modify_config(access, vmid, settings)
    user = identity.task_user if identity else ROOT
    check_storage_access(cluster, user, vmid, settings, None)
    check_bridge_access(access, settings)


def check_storage_access(
    cluster: Cluster, user: str, vmid: int, settings: Mapping[str, str], default: Any
) -> None:
    """qemu-server ``API2/Qemu.pm`` ``$check_storage_access``."""
    access = cluster.access
    for key in sorted(k for k in settings if is_drive_key(k)):
        drive = parse_drive(settings[key])
        volid = drive.get("file", "")
        cdrom = drive.get("media") == "cdrom"
        volname = volid.split(":", 1)[1] if ":" in volid else None
        new = NEW_DISK_RE.match(volid)
        if not volid or volid in ("none", "cloudinit") or volname == "cloudinit":
            pass
        elif cdrom and volid == "cdrom":
            access.check_privileges("/", ["Sys.Console"])
        elif not cdrom and new:
            storage = new[1] or default
            if not storage:
                raise PveError(500, "no storage ID specified (and no default storage)\n")
            access.check_privileges(f"/storage/{storage}", ["Datastore.AllocateSpace"])
        else:
            check_volume_access(cluster, user, vmid, volid)
        source = drive.get("import-from")
        if source:
            owner = parse(cluster, source).owner if ":" in source else None
            if owner is not None:
                check_vm_perm(access, owner, ["VM.Clone"])
            else:
                check_volume_access(cluster, user, vmid, source)
    for key in sorted(k for k in settings if re.fullmatch(r"unused\d+", k)):
        volid = parse_drive(settings[key]).get("file", "")
        check_volume_access(cluster, user, vmid, volid, "images")
    if settings.get("vmstatestorage"):
        state_storage = settings["vmstatestorage"]
        access.check_privileges(f"/storage/{state_storage}", ["Datastore.AllocateSpace"])


def check_volume_access(
    cluster: Cluster, user: str, vmid: int, volid: str, wanted: str | None = None
) -> None:
    """pve-storage ``Storage.pm`` ``check_volume_access`` with the VM's ``$vmid``: a file
    system path is root@pam's alone; else the content type (``wanted``), then
    ``Datastore.Allocate`` on the storage, then per type: ``iso``/``vztmpl``/``import`` need
    read access to the storage, a volume the VM owns is allowed, another VM's needs
    ``Datastore.Audit`` and ``VM.Config.Disk`` on its owner (``volume_names.check_access``)."""
    if ":" not in volid:
        if user != ROOT:
            raise PveError(500, "Only root can pass arbitrary filesystem paths.\n")
        return
    name = parse(cluster, volid)
    if wanted and name.vtype != wanted:
        raise PveError(500, f"unable to use volume {volid} - content type needs to be '{wanted}'\n")
    if cluster.access.has(f"/storage/{name.storage.id}", "Datastore.Allocate"):
        return
    if name.vtype not in ("iso", "vztmpl", "import") and name.owner == vmid:
        return
    check_access(cluster, volid)


def check_serial(cluster: Cluster, user: str, vmid: int, settings: Mapping[str, str]) -> None:
    """``$check_vm_create_serial_perm``: a ``socket`` serial port needs ``VM.Config.HWType``;
    a real device is root@pam's alone."""
    if user == ROOT:
        return
    for key in sorted(k for k in settings if re.fullmatch(r"serial\d+", k)):
        if settings[key] == "socket":
            check_vm_perm(cluster.access, vmid, ["VM.Config.HWType"])
        else:
            raise PveError(500, f"only root can set '{key}' config for real devices\n")
