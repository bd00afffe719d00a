"""VM snapshots: create, list, roll back, delete, and a snapshot's config, as PVE runs them.

Follows pve-guest-common ``src/PVE/AbstractConfig.pm`` (``__snapshot_prepare``,
``__snapshot_commit``, ``snapshot_create``, ``snapshot_delete``, ``snapshot_rollback``,
``__snapshot_copy_config``, ``__snapshot_apply_config``) with qemu-server
``src/PVE/QemuConfig.pm`` (``has_feature``, ``__snapshot_save_vmstate`` with
``runningmachine``/``runningcpu``, ``__snapshot_check_running``, ``__snapshot_rollback_hook``,
``__snapshot_rollback_vm_stop``/``_vm_start``) and the API
subs of ``src/PVE/API2/Qemu.pm`` (``snapshot``, ``snapshot_list``, ``rollback``,
``delsnapshot``, ``update_snapshot_config``, ``get_snapshot_config``).

A worker takes its lock when it starts (``snapshot``, ``rollback``, ``snapshot-delete``) and
holds it for the task's duration; a check its worker makes fails the task, not the request.
Which volumes can be snapshotted is pve-storage ``volume_has_feature('snapshot')`` per
storage type (``snapshot_capable``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.drives import (
    is_drive_key,
    parse_drive,
    parse_size,
    split_property_string,
    split_volid,
)
from solti.sandbox.pve.state.guests import Guests, check_lock, max_memory
from solti.sandbox.pve.state.qemu_host import machine_at_start
from solti.sandbox.pve.state.records import Guest, Snapshot, Storage
from solti.sandbox.pve.state.running_cpu import cpu_at_start
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import Now, TaskError, Tasks

# ``__snapshot_copy_config``: keys a snapshot never copies from the current config.
NOT_COPIED = {"snapshots", "snapstate", "snaptime", "vmstate", "lock", "digest", "description"}
# pve-storage ``volume_has_feature``: storage types that snapshot any current (non-base)
# volume (``LvmThinPlugin.pm``, ``ZFSPoolPlugin.pm``, ``RBDPlugin.pm``); file storages
# (``Plugin.pm``: dir, nfs, cifs...) and ``LVMPlugin.pm`` only qcow2 images.
ANY_FORMAT = {"lvmthin", "zfspool", "rbd", "zfs"}
QCOW2_ONLY = {"dir", "nfs", "cifs", "cephfs", "glusterfs", "btrfs", "lvm"}
# ``__snapshot_save_vmstate``: twice the memory plus 500 MiB of driver state.
DRIVER_STATE_MIB = 500


def snapshot_capable(storage: Storage | None, volname: str) -> bool:
    """pve-storage ``volume_has_feature($storecfg, 'snapshot', $volid)`` for a current volume."""
    if storage is None:
        return False
    name = volname.rsplit("/", 1)[-1]
    if name.startswith("base-"):
        return False  # key 'base': no snapshot feature on any storage type
    if storage.type in ANY_FORMAT:
        return True
    if storage.type in QCOW2_ONLY:
        return name.endswith(".qcow2") if storage.file_based else False
    return False


def snapshot_disks(conf: dict[str, str]) -> list[tuple[str, str]]:
    """``foreach_volume`` without cd-roms (``drive_is_cdrom``): (key, volid) of each disk."""
    disks = []
    for key, value in sorted(conf.items()):
        if not is_drive_key(key):
            continue
        drive = parse_drive(value)
        if drive.get("media") == "cdrom" or not drive.get("file"):
            continue
        disks.append((key, drive["file"]))
    return disks


def copy_config(source: dict[str, str]) -> dict[str, str]:
    """``__snapshot_copy_config``: every option but bookkeeping, description and unused disks."""
    return {k: v for k, v in source.items() if k not in NOT_COPIED and not k.startswith("unused")}


class Snapshots:
    """The snapshot operations; the snapshots themselves live on each :class:`Guest`."""

    def __init__(self, now: Now, guests: Guests, storages: Storages, tasks: Tasks) -> None:
        self._now = now
        self._guests = guests
        self._storages = storages
        self._tasks = tasks

    # -- reads --------------------------------------------------------------------------
    def listed(self, node: str, vmid: int, config_digest: str) -> list[dict[str, Any]]:
        """``snapshot_list``: one row per snapshot, then ``current`` ("You are here!")."""
        guest = self._guests.on(node, vmid)
        rows: list[dict[str, Any]] = []
        for snap in sorted(guest.snapshots.values(), key=lambda s: (s.snaptime, s.name)):
            row: dict[str, Any] = {
                "name": snap.name,
                "description": snap.description,
                "snaptime": snap.snaptime,
                "vmstate": 1 if snap.vmstate else 0,
            }
            if snap.parent:
                row["parent"] = snap.parent
            if snap.snapstate:
                row["snapstate"] = snap.snapstate
            rows.append(row)
        current: dict[str, Any] = {
            "name": "current",
            "digest": config_digest,
            "running": int(guest.running),
            "description": "You are here!",
        }
        if guest.parent:
            current["parent"] = guest.parent
        return [*rows, current]

    def config(self, node: str, vmid: int, snapname: str) -> dict[str, Any]:
        """``get_snapshot_config``: the snapshot's section as stored."""
        snap = self._existing(self._guests.on(node, vmid), snapname)
        out: dict[str, Any] = dict(snap.conf)
        out["snaptime"] = snap.snaptime
        if snap.description:
            out["description"] = snap.description
        if snap.vmstate:
            out["vmstate"] = snap.vmstate
        if snap.parent:
            out["parent"] = snap.parent
        if snap.snapstate:
            out["snapstate"] = snap.snapstate
        return out

    def describe(self, node: str, vmid: int, snapname: str, description: str | None) -> None:
        """``update_snapshot_config``: nothing to do without a description; else under the
        config lock, refused while the VM is locked."""
        if description is None:
            return
        guest = self._guests.on(node, vmid)
        self._guests.check_file_lock(vmid)
        check_lock(guest)
        self._existing(guest, snapname).description = description

    # -- create -------------------------------------------------------------------------
    def create(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        """``snapshot``: reserved names and the config die in the API call; the rest is the
        ``qmsnapshot`` worker's ``__snapshot_prepare`` (lock ``snapshot``) and, when the
        task ends, ``__snapshot_commit``."""
        snapname = str(params["snapname"])
        if snapname == "current":
            raise PveError(500, "unable to use snapshot name 'current' (reserved name)")
        if snapname.lower() == "pending":
            raise PveError(500, "unable to use snapshot name 'pending' (reserved name)")
        guest = self._guests.on(node, vmid)
        try:
            lines = self._prepare(guest, snapname, bool(params.get("vmstate")), params)
        except PveError as refused:
            return self._failed_task(node, "qmsnapshot", vmid, user, refused.message)

        def commit() -> list[str]:
            snap = guest.snapshots.get(snapname)
            if guest.conf.get("lock") != "snapshot":
                raise TaskError("missing snapshot lock")
            if snap is None:
                raise TaskError(f"snapshot '{snapname}' does not exist")
            snap.snapstate = None
            guest.conf.pop("lock", None)
            guest.parent = snapname
            return lines

        def cleanup() -> None:
            """A failed worker leaves no half-made snapshot: pve-guest-common
            ``PVE/AbstractConfig.pm`` ``snapshot_create`` warns "snapshot create failed:
            starting cleanup" and runs ``snapshot_delete`` forced, which drops the
            snapshot, its RAM state and the lock."""
            snap = guest.snapshots.pop(snapname, None)
            if snap is not None and snap.vmstate:
                state = self._storages.find_volume(snap.vmstate, guest.node)
                if state is not None:
                    self._storages.remove_volume(state)
            if guest.conf.get("lock") == "snapshot":
                guest.conf.pop("lock", None)

        return self._tasks.start(node, "qmsnapshot", vmid, user, commit, rollback=cleanup).upid

    def _prepare(
        self, guest: Guest, snapname: str, save_vmstate: bool, params: dict[str, Any]
    ) -> list[str]:
        """``__snapshot_prepare``, in its order: template, lock, name, storage feature."""
        self._guests.check_file_lock(guest.vmid)
        if guest.is_template:
            raise PveError(500, "you can't take a snapshot if it's a template")
        check_lock(guest)
        if snapname in guest.snapshots:
            raise PveError(500, f"snapshot name '{snapname}' already used")
        disks = snapshot_disks(guest.conf)
        for _key, volid in disks:
            parts = split_volid(volid)
            storage = self._storages.get(parts[0]) if parts else None
            if parts is None or not snapshot_capable(storage, parts[1]):
                raise PveError(500, "snapshot feature is not available")
        lines: list[str] = []
        for other in guest.snapshots.values():
            if other.parent == snapname:
                lines.append(
                    f"WARN: deleting parent '{snapname}' reference from '{other.name}' to "
                    "avoid bogus snapshot cycle."
                )
                other.parent = None
        snap = Snapshot(
            name=snapname,
            conf=copy_config(guest.conf),
            snaptime=int(self._now()),
            description=str(params.get("description") or ""),
            parent=guest.parent,
            snapstate="prepare",
        )
        # ``__snapshot_save_vmstate`` only when the VM runs (``__snapshot_check_running``);
        # for a stopped VM ``vmstate`` is quietly not saved.
        if save_vmstate and guest.running and disks:
            storage_id = guest.conf.get("vmstatestorage") or disks[0][1].split(":", 1)[0]
            size = max_memory(guest) * 2 + DRIVER_STATE_MIB * 1024**2
            state = self._storages.alloc_disk(
                storage_id, guest.node, guest.vmid, size, name=f"vm-{guest.vmid}-state-{snapname}"
            )
            snap.vmstate = state.volid
            # ``__snapshot_save_vmstate`` records what the VM runs with, into the snapshot's
            # section: ``get_current_qemu_machine`` (QMP ``query-machines``) and the ``-cpu``
            # of its process (``get_cpu_from_running_vm``; here from the current config).
            snap.conf["runningmachine"] = Guests.running_versions(guest)["running-machine"]
            snap.conf["runningcpu"] = cpu_at_start(guest.conf)
            lines.append(f"saving VM state and RAM using storage '{storage_id}'")
        guest.conf["lock"] = "snapshot"
        guest.snapshots[snapname] = snap
        lines += [f"snapshotting 'drive-{key}' ({volid})" for key, volid in disks]
        return lines

    # -- rollback -----------------------------------------------------------------------
    def rollback(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        """``rollback``: the ``qmrollback`` worker's prepare pass (checks, hard stop of a
        running VM, lock ``rollback``) runs at once; the second pass (the snapshot's config
        becomes current, a RAM snapshot resumes the VM, ``start`` starts it) when it ends."""
        snapname = str(params["snapname"])
        try:
            guest = self._guests.on(node, vmid)
            snap = self._rollback_prepare(guest, snapname)
        except PveError as refused:
            return self._failed_task(node, "qmrollback", vmid, user, refused.message)
        start_after = bool(params.get("start"))

        def finish() -> list[str]:
            if guest.conf.get("lock") != "rollback":
                raise TaskError("got wrong lock")
            kept = {
                k: v for k, v in guest.conf.items() if k.startswith("unused") or k == "description"
            }
            old_machine = guest.conf.get("machine")
            guest.conf.clear()
            guest.conf.update({**kept, **copy_config(snap.conf)})
            force_machine = self._rollback_hook(guest, snap, old_machine)
            guest.parent = snapname
            self._restore_sizes(guest)
            lines = [f"rolled back {key} ({volid})" for key, volid in snapshot_disks(guest.conf)]
            if snap.vmstate or start_after:
                guest.running, guest.started_at = True, self._now()
                # ``__snapshot_rollback_vm_start``: ``vm_start`` with ``forcemachine`` (and
                # ``forcecpu``) from the hook; ``start`` alone is a plain ``vm_start``.
                machine = force_machine if snap.vmstate else machine_at_start(guest.conf)
                guest.started_machine = (guest.started_at, machine)
                lines.append(
                    f"started VM {vmid}" + (" from its saved state" if snap.vmstate else "")
                )
            return lines

        return self._tasks.start(node, "qmrollback", vmid, user, finish).upid

    @staticmethod
    def _rollback_hook(guest: Guest, snap: Snapshot, old_machine: str | None) -> str:
        """qemu-server ``QemuConfig.pm`` ``__snapshot_rollback_hook`` (second pass), on the
        config just copied from the snapshot; returns ``forcemachine``. A recorded
        ``runningmachine`` is taken out of the config and forced (``runningcpu`` with it);
        else the config's machine type, or ``pc-i440fx-1.4`` for snapshots older than
        ``machine``, whose type is dropped from a RAM snapshot's config unless the config
        before the rollback set one. ``vmgenid`` is made new; ``running-nets-host-mtu``
        goes."""
        conf = guest.conf
        running = conf.pop("runningmachine", None)
        if running is not None:
            force = running
            conf.pop("runningcpu", None)
        else:
            machine = split_property_string(conf.get("machine", ""), "type").get("type")
            force = machine_at_start({"machine": machine or "pc-i440fx-1.4"})
            if snap.vmstate and old_machine is None:
                conf.pop("machine", None)
        if conf.get("vmgenid"):
            conf["vmgenid"] = str(uuid.uuid4())
        conf.pop("running-nets-host-mtu", None)
        return force

    def _rollback_prepare(self, guest: Guest, snapname: str) -> Snapshot:
        self._guests.check_file_lock(guest.vmid)
        if guest.is_template:
            raise PveError(500, "you can't rollback if vm is a template")
        snap = self._existing(guest, snapname)
        if snap.snapstate:
            raise PveError(
                500, f"unable to rollback to incomplete snapshot (snapstate = {snap.snapstate})"
            )
        check_lock(guest)
        guest.running = False  # ``vm_stop`` with a 5 s timeout: a hard stop, no shutdown
        guest.conf["lock"] = "rollback"
        return snap

    def _restore_sizes(self, guest: Guest) -> None:
        """Each volume is the size the snapshot recorded (``volume_snapshot_rollback``)."""
        for key, value in guest.conf.items():
            if not is_drive_key(key):
                continue
            drive = parse_drive(value)
            volume = self._storages.find_volume(drive.get("file", ""), guest.node)
            if volume is not None and "size" in drive and drive.get("media") != "cdrom":
                volume.size = parse_size(drive["size"])

    # -- delete -------------------------------------------------------------------------
    def delete(self, node: str, vmid: int, params: dict[str, Any], user: str) -> str:
        """``delsnapshot``: forks at once (no config read in the API call); the worker's
        ``snapshot_delete`` checks, takes lock ``snapshot-delete`` and, when it ends, drops
        the RAM state, relinks children to the snapshot's parent and frees the lock."""
        snapname = str(params["snapname"])
        try:
            guest = self._guests.on(node, vmid)
            self._guests.check_file_lock(vmid)
            snap = self._existing(guest, snapname)
            check_lock(guest)  # ``set_lock``
            if guest.is_template:
                raise PveError(500, "you can't delete a snapshot if vm is a template")
        except PveError as refused:
            return self._failed_task(node, "qmdelsnapshot", vmid, user, refused.message)
        guest.conf["lock"] = "snapshot-delete"
        snap.snapstate = "delete"

        def finish() -> list[str]:
            if guest.conf.get("lock") != "snapshot-delete":
                raise TaskError("encountered invalid lock, expected 'snapshot-delete'")
            if snap.vmstate:
                state = self._storages.find_volume(snap.vmstate, guest.node)
                if state is not None:
                    self._storages.remove_volume(state)
            if guest.parent == snapname:
                guest.parent = snap.parent
            for other in guest.snapshots.values():
                if other.parent == snapname:
                    other.parent = snap.parent
            guest.snapshots.pop(snapname, None)
            guest.conf.pop("lock", None)
            return [f"deleted snapshot '{snapname}' of VM {vmid}"]

        return self._tasks.start(node, "qmdelsnapshot", vmid, user, finish).upid

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _existing(guest: Guest, snapname: str) -> Snapshot:
        snap = guest.snapshots.get(snapname)
        if snap is None:
            raise PveError(500, f"snapshot '{snapname}' does not exist")
        return snap

    def _failed_task(self, node: str, task_type: str, vmid: int, user: str, message: str) -> str:
        """A worker that died in its first check: a UPID now, ``TASK ERROR`` when it ends."""

        def fail() -> list[str]:
            raise TaskError(message)

        work: Callable[[], list[str]] = fail
        return self._tasks.start(node, task_type, vmid, user, work).upid
