"""qemu configs: create, read and update, with the normalisation qemu-server applies.

``Configs`` owns no state: it checks parameters, asks ``Storages`` for disks and ``Guests``
for the record, and changes the record's config (at once, or in a ``qmcreate`` task).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.propstring import format_size
from solti.sandbox.pve.state import privileges
from solti.sandbox.pve.state.access import Access
from solti.sandbox.pve.state.config_values import (
    IMPORT_SYNTAX,
    NOT_CONFIG,
    check_balloon,
    check_import,
    normalise_value,
    stored,
    typed,
    update_request,
)
from solti.sandbox.pve.state.drives import (
    CLOUDINIT_RE,
    NEW_DISK_RE,
    UNITS,
    is_drive_key,
    parse_drive,
    print_drive,
    qcow2_virtual_size,
)
from solti.sandbox.pve.state.guests import Guests, check_lock, digest
from solti.sandbox.pve.state.qemu_host import QEMU_VERSION, machine_at_start, pinned_on_create
from solti.sandbox.pve.state.records import Guest
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import Now, TaskError, Tasks

EFI_SIZES = {"4m": 540672, "2m": 131072}


def _wrap_create(vmid: int, work: Callable[[], list[str]]) -> Callable[[], list[str]]:
    def wrapped() -> list[str]:
        try:
            return work()
        except TaskError as exc:
            raise TaskError(f"unable to create VM {vmid} - {exc}") from exc

    return wrapped


class Configs:
    """Create/read/update of qemu configs."""

    def __init__(
        self, now: Now, guests: Guests, storages: Storages, tasks: Tasks, access: Access
    ) -> None:
        self._now = now
        self._access = access
        self._guests = guests
        self._storages = storages
        self._tasks = tasks

    # -- drives -------------------------------------------------------------------------
    def plan_drive(
        self,
        node: str,
        vmid: int,
        key: str,
        value: str,
        conf: dict[str, str],
        others: dict[str, str],
    ) -> Callable[[], str]:
        """Check one drive parameter now; return the allocation to run later (in the task)."""
        drive = parse_drive(value)
        file = drive.get("file", "")
        cloud = CLOUDINIT_RE.match(file)
        if cloud:
            return self._plan_cloudinit(node, vmid, key, drive, cloud.group(1), {**conf, **others})
        new = NEW_DISK_RE.match(file)
        source = drive.get("import-from")
        if not new:
            if source:
                raise PveError(400, "Parameter verification failed.", {key: IMPORT_SYNTAX})
            return lambda: print_drive(drive)
        storage_id = new.group(1) or "local-lvm"
        self._storages.require_images(storage_id)
        check_import(key, drive, source, float(new.group(2)))

        def alloc() -> str:
            size = self._new_disk_size(node, key, drive, storage_id, source, float(new.group(2)))
            vol = self._storages.alloc_disk(storage_id, node, vmid, size)
            return print_drive({**drive, "file": vol.volid, "size": format_size(size)})

        return alloc

    def _plan_cloudinit(
        self,
        node: str,
        vmid: int,
        key: str,
        drive: dict[str, str],
        storage_id: str,
        drives: dict[str, str],
    ) -> Callable[[], str]:
        """One cloud-init drive per VM (``$check_cloudinit_drive``-like), allocated as a cdrom."""
        self._storages.require_images(storage_id)
        for other, other_value in drives.items():
            if other != key and is_drive_key(other) and "cloudinit" in other_value.split(",")[0]:
                raise PveError(500, f"{key} - cloud-init drive is already attached at '{other}'")

        def alloc_cloudinit() -> str:
            vol = self._storages.alloc_disk(
                storage_id, node, vmid, 4 * UNITS["M"], name=f"vm-{vmid}-cloudinit"
            )
            return print_drive({**drive, "file": vol.volid, "media": "cdrom"})

        return alloc_cloudinit

    def _new_disk_size(
        self,
        node: str,
        key: str,
        drive: dict[str, str],
        storage_id: str,
        source: str | None,
        gib: float,
    ) -> int:
        """Bytes of a new disk: EFI vars and TPM state have fixed sizes; an import its image's."""
        if key == "efidisk0":
            size = EFI_SIZES.get(drive.get("efitype", "2m"), EFI_SIZES["2m"])
            return size if self._storages[storage_id].file_based else 4 * UNITS["M"]
        if key == "tpmstate0":
            return 4 * UNITS["M"]
        if source:
            return self._import_size(node, source)
        return int(gib * UNITS["G"])

    def _import_size(self, node: str, source: str) -> int:
        volume = self._storages.find_volume(source, node)
        if volume is None:
            raise TaskError(f"volume '{source}' does not exist")
        if volume.content == "images":
            return volume.size
        if volume.format == "qcow2":
            size = qcow2_virtual_size(volume.data or b"")
            if size is None:
                raise TaskError(f"could not parse qemu-img info command output for '{source}'")
            return size
        return volume.size

    # -- create -------------------------------------------------------------------------
    def create(self, node: str, params: dict[str, Any], user: str) -> str:
        """``POST /nodes/{node}/qemu``: checks now, ``lock: create`` config, work in the task."""
        vmid = int(params["vmid"])
        # The permission checks of ``create_vm``'s code ran before: handlers/create_checks.py
        if vmid in self._guests:
            raise PveError(
                500,
                f"unable to create VM {vmid} - VM {vmid} already exists on node "
                f"'{self._guests[vmid].node}'",
            )
        settings = {k: v for k, v in params.items() if k not in NOT_CONFIG}
        drives = {k: stored(v) for k, v in settings.items() if is_drive_key(k)}
        allocations = {
            k: self.plan_drive(node, vmid, k, v, {}, drives) for k, v in sorted(drives.items())
        }
        conf: dict[str, str] = {}
        for key, value in settings.items():
            if not is_drive_key(key) and key != "cipassword":
                conf[key] = normalise_value(key, value)
        if "cipassword" in settings:
            conf["cipassword"] = stored(settings["cipassword"])
        start_after = bool(params.get("start"))
        guest = self._guests.add(vmid, node, {"lock": "create"}, new=True)

        def work() -> list[str]:
            for key, alloc in allocations.items():
                conf[key] = alloc()
            self._fill_defaults(vmid, conf)
            lines = []
            # API2/Qemu.pm create_vm: "always pin Windows' machine version on create".
            if pinned := pinned_on_create(conf):
                conf["machine"] = pinned
                machine = pinned.split(",")[0]
                lines.append(f"pinning machine type to '{machine}' for Windows guest OS")
            guest.conf = conf
            if start_after:
                guest.running, guest.started_at = True, self._now()
                guest.started_machine = (guest.started_at, machine_at_start(conf))
            return [*lines, f"created VM {vmid}"]

        def rollback() -> None:
            self._storages.remove_volumes_of(vmid)
            self._guests.drop(vmid)

        task = self._tasks.start(node, "qmcreate", vmid, user, _wrap_create(vmid, work), rollback)
        return task.upid

    def _fill_defaults(self, vmid: int, conf: dict[str, str]) -> None:
        conf["meta"] = f"creation-qemu={QEMU_VERSION},ctime={int(self._now())}"
        smbios = conf.get("smbios1", "")
        if "uuid=" not in smbios:
            conf["smbios1"] = ",".join(p for p in (f"uuid={uuid.uuid4()}", smbios) if p)
        if conf.get("vmgenid", "1") == "1":
            conf["vmgenid"] = str(uuid.uuid4())
        elif conf.get("vmgenid") == "0":
            del conf["vmgenid"]
        if "boot" not in conf:
            order = [
                k
                for k in sorted(conf)
                if is_drive_key(k)
                and k not in ("efidisk0", "tpmstate0")
                and "cloudinit" not in conf[k]
            ]
            order += sorted(k for k in conf if re.fullmatch(r"net\d+", k))
            if order:
                conf["boot"] = "order=" + ";".join(order)

    # -- read ---------------------------------------------------------------------------
    def read(self, node: str, vmid: int) -> dict[str, Any]:
        guest = self._guests.on(node, vmid)
        data: dict[str, Any] = {k: typed(k, v) for k, v in guest.conf.items()}
        if "cipassword" in data:
            data["cipassword"] = "**********"
        data["digest"] = digest(guest.conf)
        return data

    # -- update -------------------------------------------------------------------------
    def update(self, node: str, vmid: int, params: dict[str, Any]) -> None:
        """``PUT/POST .../config`` after ``$update_vm_api``'s permission checks
        (``handlers/create_checks.py`` ``check_update``): ``$load_and_check_config``, then the
        change applied at once."""
        guest = self._guests.on(node, vmid)
        settings, deletes, _reverts = update_request(params)
        if params.get("digest") and params["digest"] != digest(guest.conf):
            raise PveError(500, "checksum mismatch (file change by other user?)")
        check_lock(guest, bool(params.get("skiplock")))
        check_balloon(guest.conf, settings)
        self._guests.check_file_lock(vmid)  # ``lock_config`` after the early checks
        for key in deletes:
            if key in settings:
                raise PveError(
                    400,
                    "Parameter verification failed.",
                    {"delete": f"you can't use '-{key}' and -delete {key}' at the same time"},
                )
        drives = {k: stored(v) for k, v in settings.items() if is_drive_key(k)}
        privileges.check_drive_perms(self._access, vmid, drives)
        remaining = {k: v for k, v in guest.conf.items() if k not in drives and k not in deletes}
        allocations = {
            k: self.plan_drive(node, vmid, k, v, remaining, drives)
            for k, v in sorted(drives.items())
        }
        values = {
            k: normalise_value(k, v)
            for k, v in settings.items()
            if not is_drive_key(k) and k != "cipassword"
        }
        # API2/Qemu.pm update_vm: switching the OS type pins the machine "just like upon
        # creation" (applied at once here, as every change: the simulator has no pending).
        pin = "ostype" in values and "machine" not in values and "machine" not in deletes
        if pin and (pinned := pinned_on_create({**guest.conf, "ostype": values["ostype"]})):
            values["machine"] = pinned
        for key in deletes:
            self._delete_key(guest, key)
        for key, alloc in allocations.items():
            old = guest.conf.get(key)
            guest.conf[key] = alloc()
            if old and old != guest.conf[key]:
                self._detach(guest, old)
        if "cipassword" in settings:
            guest.conf["cipassword"] = stored(settings["cipassword"])
        for key, value in values.items():
            if key == "description" and not value:
                guest.conf.pop("description", None)
            elif key == "vmgenid" and value in ("0", "1"):
                if value == "1":
                    guest.conf["vmgenid"] = str(uuid.uuid4())
                else:
                    guest.conf.pop("vmgenid", None)
            else:
                guest.conf[key] = value

    def _delete_key(self, guest: Guest, key: str) -> None:
        value = guest.conf.pop(key, None)
        if value is not None and is_drive_key(key):
            self._detach(guest, value)

    def _detach(self, guest: Guest, value: str) -> None:
        """A replaced or deleted disk becomes ``unusedN``; a cloud-init volume is removed."""
        drive = parse_drive(value)
        volume = self._storages.find_volume(drive.get("file", ""), guest.node)
        if volume is None or volume.vmid != guest.vmid:
            return
        if "cloudinit" in volume.volname:
            self._storages.remove_volume(volume)
            return
        index = 0
        while f"unused{index}" in guest.conf:
            index += 1
        guest.conf[f"unused{index}"] = volume.volid
