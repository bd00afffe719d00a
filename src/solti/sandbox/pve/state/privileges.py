"""Which privilege each VM config option needs, as qemu-server checks it on create and update.

qemu-server ``src/PVE/API2/Qemu.pm``: ``$check_vm_modify_config_perm`` sorts option names into
classes (CPU, Memory, HWType, Options, Disk, Network, Cloudinit); drives are checked by value
(``$check_drive_perms``: cloud-init drive, CD-ROM, disk). ``$check_storage_access`` (create
and update) is ``handlers/create_checks.py``. Only ``root@pam`` itself skips them; an API
token of root is checked like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.access import Access
from solti.sandbox.pve.state.drives import (
    is_drive_key,
    parse_drive,
    split_property_string,
)

CPU = {"cores", "cpu", "runningcpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus"}
MEMORY = {"memory", "balloon", "shares", "allow-ksm"}
HWTYPE = {
    "acpi", "hotplug", "kvm", "machine", "runningmachine", "scsihw", "smbios1", "tablet",
    "vga", "watchdog", "audio0", "rng0",
}  # fmt: skip
GENERAL = {
    "agent", "autostart", "bios", "description", "keyboard", "localtime", "migrate_downtime",
    "migrate_speed", "name", "onboot", "ostype", "protection", "reboot", "startdate",
    "startup", "tdf", "template",
}  # fmt: skip
POWER = {"freeze"}
DISK = {"boot", "bootdisk", "vmstatestorage"}
CLOUDINIT = {
    "cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver", "searchdomain",
    "sshkeys",
}  # fmt: skip
# qemu-server ``QemuServer/Drive.pm`` ``drive_is_cloudinit``: by volume name, whatever the media.
_CLOUDINIT_VOLUME = re.compile(
    r"[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|cow|qcow|qcow2|qed|vmdk|cloop))?$"
)
_SKIPPED = re.compile(r"^(?:unused|serial|usb|hostpci|virtiofs)\d+$")


def check_vm_perm(access: Access, vmid: int, privileges: list[str], any_of: bool = False) -> None:
    """pve-access-control ``RPCEnvironment.pm`` ``check_vm_perm`` on ``/vms/{vmid}``:
    ``check`` (every privilege, the first missing one named) or ``check_any``."""
    path = f"/vms/{vmid}"
    if any_of:
        access.check_privileges(path, privileges)
        return
    for privilege in privileges:
        access.check_privileges(path, [privilege])


def check_vm_create(access: Access, params: Mapping[str, Any]) -> None:
    """qemu-server ``API2/Qemu.pm`` ``create_vm``: its ``permissions`` are ``user => 'all'``
    ("check inside"), so its code checks, in this order, after ``check_cfs_quorum``: the
    pool exists, ``Datastore.AllocateSpace`` on the default ``storage``, ``Sys.Console`` on
    ``/`` for ``ha-managed``, ``VM.PowerMgmt`` for ``start``, then ``VM.Allocate`` on
    ``/vms/{vmid}`` (or the pool) with ``noerr``, failing with the bare ``raise_perm_exc()``.
    The per-option checks (``$check_storage_access``, ``$check_vm_modify_config_perm``)
    follow in ``handlers/create_checks.py`` ``check_create``. Restores (``archive``) are
    not modelled."""
    vmid = int(params["vmid"])
    if params.get("pool") is not None:
        access.check_pool_exist(str(params["pool"]))
    if params.get("storage") is not None:
        access.check_privileges(f"/storage/{params['storage']}", ["Datastore.AllocateSpace"])
    if params.get("ha-managed"):
        access.check_privileges("/", ["Sys.Console"])
    if params.get("start"):
        check_vm_perm(access, vmid, ["VM.PowerMgmt"])
    if not access.has(f"/vms/{vmid}", "VM.Allocate"):
        raise PveError(403, "Permission check failed\n")


def check_modify_config(access: Access, vmid: int, keys: Iterable[str]) -> None:
    """``$check_vm_modify_config_perm`` for option names (set or deleted)."""
    for key in keys:
        if is_drive_key(key) or key in ("cdrom", "tags") or _SKIPPED.match(key):
            continue
        if key in CPU or re.fullmatch(r"numa\d+", key):
            check_vm_perm(access, vmid, ["VM.Config.CPU"])
        elif key in MEMORY:
            check_vm_perm(access, vmid, ["VM.Config.Memory"])
        elif key in HWTYPE:
            check_vm_perm(access, vmid, ["VM.Config.HWType"])
        elif key in GENERAL:
            check_vm_perm(access, vmid, ["VM.Config.Options"])
            if key == "startup":
                access.check_privileges("/", ["Sys.Modify"])
        elif key in POWER:
            check_vm_perm(access, vmid, ["VM.PowerMgmt"])
        elif key in DISK:
            check_vm_perm(access, vmid, ["VM.Config.Disk"])
        elif re.fullmatch(r"net\d+", key) or key == "running-nets-host-mtu":
            check_vm_perm(access, vmid, ["VM.Config.Network"])
        elif key in CLOUDINIT or re.fullmatch(r"ipconfig\d+", key):
            check_vm_perm(access, vmid, ["VM.Config.Cloudinit", "VM.Config.Network"], True)
        elif key == "vmstate":
            check_vm_perm(access, vmid, ["VM.Config.Disk", "VM.PowerMgmt"])
        else:
            raise PveError(500, f"only root can set '{key}' config")


def check_drive_perms(access: Access, vmid: int, drives: dict[str, str]) -> None:
    """``$check_drive_perms`` of ``$update_vm_api``: a cloud-init drive needs
    ``VM.Config.Cloudinit`` and ``.CDROM`` (``check_vm_perm`` without ``$any``, qemu-server
    9.2.6), a CD-ROM ``.CDROM``, any other disk ``.Disk``. Creating a VM checks none of them."""
    for value in drives.values():
        drive = parse_drive(value)
        file = drive.get("file", "")
        if _CLOUDINIT_VOLUME.search(file):
            check_vm_perm(access, vmid, ["VM.Config.Cloudinit", "VM.Config.CDROM"])
        elif drive.get("media") == "cdrom":
            check_vm_perm(access, vmid, ["VM.Config.CDROM"])
        else:
            check_vm_perm(access, vmid, ["VM.Config.Disk"])


def check_bridge_access(access: Access, conf: dict[str, str]) -> None:
    """qemu-server ``QemuServer.pm`` ``check_bridge_access`` via pve-guest-common
    ``GuestHelpers.pm`` ``check_vnet_access``: ``SDN.Use`` on the bridge of each ``netN``
    (zone ``localnetwork``), on ``.../BRIDGE/TAG`` when the NIC has a VLAN tag."""
    for key in sorted(conf):
        if not re.fullmatch(r"net\d+", key):
            continue
        net = split_property_string(conf[key], None)
        bridge = net.get("bridge")
        if not bridge:
            continue
        path = f"/sdn/zones/localnetwork/{bridge}"
        if net.get("tag"):
            path += f"/{net['tag']}"
        access.check_privileges(path, ["SDN.Use"])
