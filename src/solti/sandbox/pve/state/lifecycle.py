"""clone, template, resize and destroy: each splits into pre-fork checks (HTTP errors)
and the worker's part (task exit status), exactly where qemu-server splits them."""

from __future__ import annotations

import re
import uuid
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.propstring import format_size
from solti.sandbox.pve.state import privileges
from solti.sandbox.pve.state.access import Access
from solti.sandbox.pve.state.config_values import normalise_value
from solti.sandbox.pve.state.drives import (
    is_drive_key,
    parse_drive,
    parse_net,
    parse_size,
    print_drive,
    print_net,
)
from solti.sandbox.pve.state.guests import Guests, check_lock, digest, random_mac
from solti.sandbox.pve.state.nodes import Nodes
from solti.sandbox.pve.state.records import Guest, Volume
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import TaskError, Tasks

CLONE_SKIP = ("template", "lock", "digest", "pending", "parent", "snapstate", "vmstate")
# pve-storage ``Plugin.pm`` ``parse_volume_id``: ``STORAGE:VOLNAME``.
VOLUME_ID_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$", re.IGNORECASE)
# qemu-server ``QemuServer/Drive.pm`` ``valid_drive_names``: "order is important".
DRIVE_ORDER = ("ide", "scsi", "virtio", "sata")


def volume_keys(conf: dict[str, str]) -> list[str]:
    """The drive keys of ``conf`` in ``foreach_volume`` order (``QemuConfig.pm``
    ``valid_volume_keys``: ``valid_drive_names``, then ``efidisk0``, ``tpmstate0``)."""

    def rank(key: str) -> tuple[int, int]:
        if key == "efidisk0":
            return (len(DRIVE_ORDER), 0)
        if key == "tpmstate0":
            return (len(DRIVE_ORDER) + 1, 0)
        prefix = key.rstrip("0123456789")
        return (DRIVE_ORDER.index(prefix), int(key[len(prefix) :]))

    return sorted((k for k in conf if is_drive_key(k)), key=rank)


class Lifecycle:
    """VM operations that run as tasks (power is in ``power``); they own no state."""

    def __init__(
        self, nodes: Nodes, guests: Guests, storages: Storages, tasks: Tasks, access: Access
    ) -> None:
        self._nodes = nodes
        self._access = access
        self._guests = guests
        self._storages = storages
        self._tasks = tasks

    # -- clone --------------------------------------------------------------------------
    def clone(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        """qemu-server ``API2/Qemu.pm`` ``clone_vm``: ``$load_and_check`` in its order (pool,
        target node, target storage, lock, full/linked, ``$check_storage_access_clone``,
        local storage on another node, new id), then the ``qmclone`` worker."""
        source, target, full = self._load_and_check_clone(node, vmid, params)
        newid = int(params["newid"])
        storage_id = params.get("storage")
        disks = self._clone_disks(source)
        if not full:
            self._assert_linkable(disks)
        clone = self._guests.add(newid, target, {"lock": "clone"}, new=True)

        def work() -> list[str]:
            conf = {
                k: v
                for k, v in source.conf.items()
                if k not in CLONE_SKIP and not k.startswith("unused")
            }
            self._copy_drives(conf, disks, target, newid, storage_id, full, node)
            _new_identity(conf)
            conf["name"] = params.get("name") or f"Copy-of-VM-{source.conf.get('name', vmid)}"
            if params.get("description") is not None:
                conf["description"] = normalise_value("description", params["description"])
            clone.conf = conf
            return [f"create {'full' if full else 'linked'} clone of drives"]

        def rollback() -> None:
            self._storages.remove_volumes_of(newid)
            self._guests.drop(newid)

        def wrapped() -> list[str]:
            try:
                return work()
            except TaskError as exc:
                raise TaskError(f"clone failed: {exc}") from exc

        return self._tasks.start(node, "qmclone", vmid, user, wrapped, rollback).upid

    def _load_and_check_clone(
        self, node: str, vmid: int, params: dict[str, Any]
    ) -> tuple[Any, str, bool]:
        """``clone_vm``'s checks before the worker, in PVE's order: (source, target, full)."""
        if params.get("pool") is not None:
            self._access.check_pool_exist(params["pool"])
        target = params.get("target") or node
        self._nodes.check_exists(target)
        storage_id = params.get("storage")
        if storage_id:
            # ``storage_check_enabled`` on this node, then on the target (storage.cfg
            # ``nodes``); an offline target passes: only membership is checked
            # (``check_node_exists``), so the clone's config moves to the node while it is down.
            self._storages.check_enabled(storage_id, node)
            self._storages.require_images(storage_id)
            if target != node:
                self._storages.check_enabled(storage_id, target)
                if not self._storages[storage_id].shared:
                    raise PveError(500, f"can't clone to non-shared storage '{storage_id}'")
        self._nodes.check_quorum()
        source = self._guests.assert_on(node, vmid)
        check_lock(source)
        is_template = source.conf.get("template") == "1"
        full = bool(params["full"]) if "full" in params else not is_template
        if storage_id and not full:
            raise PveError(500, "parameter 'storage' not allowed for linked clones")
        if params.get("format") and not full:
            raise PveError(500, "parameter 'format' not allowed for linked clones")
        shared_vm = self._check_storage_access_clone(source, storage_id)
        privileges.check_bridge_access(self._access, source.conf)
        if target != node and not shared_vm:
            raise PveError(500, f"can't clone VM to node '{target}' (VM uses local storage)")
        newid = int(params["newid"])
        if newid in self._guests:
            raise PveError(500, f"unable to create VM {newid}: config file already exists")
        return source, target, full

    @staticmethod
    def _assert_linkable(disks: dict[str, Any]) -> None:
        """A linked clone needs every image disk to be a base volume (a template's)."""
        for key, volume in disks.items():
            if (
                volume
                and volume.content == "images"
                and "cloudinit" not in volume.volname  # always copied in full (PVE)
                and not volume.volname.split("/")[-1].startswith("base-")
            ):
                raise PveError(
                    500, f"Linked clone feature is not supported for '{volume.volid}' ({key})"
                )

    def _copy_drives(
        self,
        conf: dict[str, str],
        disks: dict[str, Any],
        target: str,
        newid: int,
        storage_id: str | None,
        full: bool,
        worker: str,
    ) -> None:
        """New volumes for the clone: full copies, thin children of the base, fresh cloud-init.

        The copies are made by the node running the task (``worker``), which activates the
        storages (``Storage.pm`` ``vdisk_clone``/``vdisk_alloc``); the target node is not asked
        whether it can reach them, so a clone onto a node where the storage is not enabled
        succeeds and only its start fails there."""
        for key, volume in disks.items():
            drive = parse_drive(conf[key])
            if volume is None:
                continue
            cloudinit = "cloudinit" in volume.volname
            dest = storage_id or volume.storage
            if cloudinit:
                new = self._storages.alloc_disk(
                    dest, target, newid, volume.size, name=f"vm-{newid}-cloudinit", worker=worker
                )
            elif full:
                new = self._storages.alloc_disk(dest, target, newid, volume.size, worker=worker)
            else:
                new = self._storages.alloc_disk(
                    volume.storage,
                    target,
                    newid,
                    volume.size,
                    parent=volume.volname,
                    worker=worker,
                )
            drive["file"] = new.volid
            if not cloudinit:
                drive["size"] = format_size(new.size)
            conf[key] = print_drive(drive)

    def _check_storage_access_clone(self, guest: Guest, storage_id: str | None) -> bool:
        """qemu-server ``API2/Qemu.pm`` ``$check_storage_access_clone``: whether every volume
        is on shared storage, checking in ``foreach_volume`` order (``volume_keys``):

        - no file or ``none``: nothing;
        - a CD-ROM (cloud-init included): the host's drive (``cdrom``) needs ``Sys.Console``
          on ``/``; any other only counts for sharing (pve-storage ``parse_volume_id`` without
          ``noerr`` dies on a path such as ``/dev/sr0``; ``storage_config`` on an unknown
          storage);
        - a disk: counts for sharing, then ``Datastore.AllocateSpace`` on the target
          ``storage`` (or its own);

        then ``Datastore.AllocateSpace`` on ``vmstatestorage`` when the config sets it."""
        shared_vm = True
        for key in volume_keys(guest.conf):
            drive = parse_drive(guest.conf[key])
            volid = drive.get("file", "")
            if not volid or volid == "none":
                continue
            if drive.get("media") == "cdrom":
                if volid == "cdrom":
                    self._access.check_privileges("/", ["Sys.Console"])
                else:
                    shared_vm = self._shared(volid) and shared_vm
            else:
                shared_vm = self._shared(volid) and shared_vm
                sid = storage_id or volid.split(":", 1)[0]
                self._access.check_privileges(f"/storage/{sid}", ["Datastore.AllocateSpace"])
        if "vmstatestorage" in guest.conf:
            self._access.check_privileges(
                f"/storage/{guest.conf['vmstatestorage']}", ["Datastore.AllocateSpace"]
            )
        return shared_vm

    def _shared(self, volid: str) -> bool:
        """pve-storage ``parse_volume_id`` (no ``noerr``) then ``storage_config``'s
        ``shared``: a path or an unknown storage dies with their messages."""
        if not VOLUME_ID_RE.match(volid):
            raise PveError(500, f"unable to parse volume ID '{volid}'")
        sid = volid.split(":", 1)[0]
        if sid not in self._storages:
            raise PveError(500, f"storage '{sid}' does not exist")
        return self._storages[sid].shared

    def _clone_disks(self, guest: Guest) -> dict[str, Volume | None]:
        disks: dict[str, Volume | None] = {}
        for key, value in sorted(guest.conf.items()):
            if is_drive_key(key):
                drive = parse_drive(value)
                if drive.get("media") == "cdrom" and "cloudinit" not in drive.get("file", ""):
                    continue
                disks[key] = self._storages.find_volume(drive.get("file", ""), guest.node)
        return disks

    # -- template -----------------------------------------------------------------------
    def make_template(self, node: str, vmid: int, user: str) -> str:
        """qemu-server ``API2/Qemu.pm`` ``template``: its ``$load_and_check`` runs in the API
        call (a ``die`` there is a 500 with the message) and again in the ``qmtemplate``
        worker under the config lock (a failed task): ``check_lock``, no snapshots, not a
        template already, not running. The ``disk`` parameter is not modelled."""
        guest = self._guests.on(node, vmid)
        self._load_and_check_template(guest)

        def work() -> list[str]:
            self._load_and_check_template(guest)
            guest.conf["template"] = "1"
            for key, value in list(guest.conf.items()):
                if not is_drive_key(key):
                    continue
                drive = parse_drive(value)
                volume = self._storages.find_volume(drive.get("file", ""), guest.node)
                if volume is None or volume.vmid != vmid or "cloudinit" in volume.volname:
                    continue
                self._storages.rename_to_base(volume)
                drive["file"] = volume.volid
                guest.conf[key] = print_drive(drive)
            return ["converted VM to template"]

        return self._tasks.start(node, "qmtemplate", vmid, user, work).upid

    @staticmethod
    def _load_and_check_template(guest: Guest) -> None:
        """``template``'s ``$load_and_check``, in its order (each a ``die``: a 500 before the
        fork, the task's exit status in the worker, see ``Tasks``)."""
        check_lock(guest)
        if guest.snapshots:
            raise PveError(500, "unable to create template, because VM contains snapshots")
        if guest.conf.get("template") == "1":
            raise PveError(500, "you can't convert a template to a template")
        if guest.running:
            raise PveError(500, "you can't convert a VM to template if VM is running")

    # -- resize -------------------------------------------------------------------------
    def resize(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        disk, size_text = params["disk"], str(params["size"])

        def work() -> list[str]:
            guest = self._guests.on(node, vmid)
            check_lock(guest, bool(params.get("skiplock")))
            if params.get("digest") and params["digest"] != digest(guest.conf):
                raise TaskError("checksum mismatch (file change by other user?)")
            if disk not in guest.conf:
                raise TaskError(f"disk '{disk}' does not exist")
            drive = parse_drive(guest.conf[disk])
            if drive.get("media") == "cdrom":
                raise TaskError("you can't resize a cdrom")
            # ``resize_vm``'s worker checks the storage after loading the config: a task error.
            storage_id = drive.get("file", "").split(":", 1)[0]
            self._access.check_privileges(f"/storage/{storage_id}", ["Datastore.AllocateSpace"])
            current = parse_size(drive.get("size", "0"))
            delta = parse_size(size_text.lstrip("+"))
            new = current + delta if size_text.startswith("+") else delta
            if new < current:
                raise TaskError("shrinking disks is not supported")
            if new == current:
                return [f"disk {disk} already has size {format_size(new)}"]
            volume = self._storages.find_volume(drive.get("file", ""), guest.node)
            if volume is not None:
                volume.size = new
            drive["size"] = format_size(new)
            guest.conf[disk] = print_drive(drive)
            return [f"resized {disk} to {format_size(new)}"]

        return self._tasks.start(node, "resize", vmid, user, work).upid

    # -- destroy ------------------------------------------------------------------------
    def destroy(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        """qemu-server ``API2/Qemu.pm`` ``destroy_vm``: ``$early_checks`` (``load_config``,
        protection, running) before the worker, and again inside it under the config lock
        ("repeat, config might have changed"): a second destroy accepted while the first ran
        fails its task with ``load_config``'s "does not exist", as on PVE."""

        def early_checks() -> Guest:
            guest = self._guests.on(node, vmid)
            if guest.conf.get("protection") == "1":
                raise PveError(500, f"can't remove VM {vmid} - protection mode enabled")
            if guest.running:
                raise PveError(500, f"VM {vmid} is running - destroy failed")
            return guest

        early_checks()

        def work() -> list[str]:
            guest = early_checks()
            check_lock(guest, bool(params.get("skiplock")))
            owned = self._storages.volumes_of(vmid)
            referenced = {
                parse_drive(v).get("file")
                for k, v in guest.conf.items()
                if is_drive_key(k) or k.startswith("unused")
            }
            for volume in owned:
                if self._storages.linked_children(volume):
                    raise TaskError(
                        f"base volume '{volume.volid}' is still in use by linked cloned"
                    )
            for volume in owned:
                if volume.volid in referenced or params.get("destroy-unreferenced-disks"):
                    self._storages.remove_volume(volume)
            self._guests.drop(vmid)
            return [f"destroyed VM {vmid}"]

        return self._tasks.start(node, "qmdestroy", vmid, user, work).upid


def _new_identity(conf: dict[str, str]) -> None:
    """What PVE makes new on a clone: MAC addresses, the SMBIOS uuid, the VM generation id."""
    for key in [k for k in conf if k.startswith("net") and k[3:].isdigit()]:
        net = parse_net(conf[key])
        net["macaddr"] = random_mac()
        conf[key] = print_net(net)
    smbios = [p for p in conf.get("smbios1", "").split(",") if p and not p.startswith("uuid=")]
    conf["smbios1"] = ",".join([f"uuid={uuid.uuid4()}", *smbios])
    if "vmgenid" in conf:
        conf["vmgenid"] = str(uuid.uuid4())
