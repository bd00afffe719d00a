"""Pure rules of VM snapshots: names, which disks can be snapshotted, the policy's limits.

They are Proxmox's rules, checked before anything is sent so the refusal names the field, the
disk or the snapshot to delete, which PVE's own words do not (its worker says only "snapshot
feature is not available"). Sources: pve-common ``JSONSchema.pm`` format ``pve-configid``
and qemu-server's ``pve-snapshot-name`` option (``maxLength => 40``); qemu-server
``API2/Qemu.pm`` ``snapshot`` (``current`` and ``pending`` reserved); pve-storage
``volume_has_feature('snapshot')`` per storage type.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from solti.provisioning.errors import Conflict, InvalidRequest, PolicyDenied
from solti.provisioning.snapshots_policy import SnapshotPolicy

__all__ = [
    "NAME_MAX",
    "VmSnapshot",
    "age_text",
    "check_limits",
    "check_name",
    "default_name",
    "parse_snapshots",
    "unsnapshottable_disk",
]

NAME_MAX = 40
_CONFIGID = re.compile(r"^[a-z][a-z0-9_-]+$", re.IGNORECASE | re.ASCII)
RESERVED = ("current", "pending")
# pve-storage ``volume_has_feature``: types that snapshot any current volume, and those that
# snapshot qcow2 images only (``Plugin.pm`` for file storages, ``LVMPlugin.pm``).
ANY_FORMAT = {"lvmthin", "zfspool", "zfs", "rbd"}
QCOW2_ONLY = {"dir", "nfs", "cifs", "cephfs", "glusterfs", "btrfs", "lvm"}
_DRIVE_KEY = re.compile(r"^(?:(?:ide|sata|scsi|virtio)\d+|efidisk0|tpmstate0)$")


class VmSnapshot(BaseModel):
    """One snapshot of a VM as ``GET .../snapshot`` lists it (``current`` left out)."""

    name: str
    taken_at: datetime | None = None
    description: str = ""
    memory: bool = False
    parent: str | None = None
    state: str | None = None  # PVE's ``snapstate`` while a task works on it


def default_name(now: datetime) -> str:
    """``solti-YYMMDD-HHMM`` (UTC): sortable, and a valid ``pve-configid``."""
    return "solti-" + now.strftime("%y%m%d-%H%M")


def check_name(name: str) -> str:
    """The name as PVE accepts it, or ``InvalidRequest`` saying what is allowed."""
    shown = name if len(name) <= 60 else name[:57] + "..."
    if name.lower() in RESERVED:
        raise InvalidRequest(
            f"snapshot name `{shown}` is reserved by Proxmox; choose another name", field="name"
        )
    if len(name) > NAME_MAX:
        raise InvalidRequest(
            f"snapshot name `{shown}` is {len(name)} characters; at most {NAME_MAX} are allowed",
            field="name",
        )
    if not _CONFIGID.match(name):
        raise InvalidRequest(
            f"snapshot name `{shown}` is not allowed: start with a letter, then at least one "
            "letter, digit, `-` or `_` (e.g. before-upgrade)",
            field="name",
        )
    return name


def parse_snapshots(rows: list[dict[str, Any]]) -> tuple[list[VmSnapshot], str | None]:
    """The snapshots, oldest first, and the ``parent`` of the current state."""
    found = []
    current_parent = None
    for row in rows:
        if row.get("name") == "current":
            current_parent = row.get("parent")
            continue
        taken = row.get("snaptime")
        found.append(
            VmSnapshot(
                name=str(row["name"]),
                taken_at=datetime.fromtimestamp(int(taken), UTC) if taken else None,
                description=str(row.get("description") or ""),
                memory=bool(row.get("vmstate")),
                parent=row.get("parent"),
                state=row.get("snapstate"),
            )
        )
    # Oldest first: by time, and within one second by the ``parent`` chain (a snapshot is
    # taken after its parent), so "the oldest" named by a refusal is the real one.
    parents = {s.name: s.parent for s in found}

    def depth(name: str) -> int:
        seen: set[str] = set()
        while (name := parents.get(name) or "") and name not in seen:
            seen.add(name)
        return len(seen)

    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda s: (s.taken_at or epoch, depth(s.name), s.name))
    return found, current_parent


def unsnapshottable_disk(config: dict[str, Any], storage_types: dict[str, str]) -> str | None:
    """The sentence naming the first disk PVE could not snapshot, or None when all can.

    qemu-server ``QemuConfig.pm`` ``has_feature`` asks every drive but CD-ROMs (the
    cloud-init drive is one) and refuses the whole snapshot if one volume cannot.
    """
    for key in sorted(config):
        if not _DRIVE_KEY.match(key):
            continue
        value = str(config[key])
        if "media=cdrom" in value:
            continue
        volid = value.split(",", 1)[0]
        storage, _, volname = volid.partition(":")
        kind = storage_types.get(storage)
        name = volname.rsplit("/", 1)[-1]
        if kind in ANY_FORMAT and not name.startswith("base-"):
            continue
        if kind in QCOW2_ONLY and name.endswith(".qcow2") and not name.startswith("base-"):
            continue
        if kind in QCOW2_ONLY:
            image = name.rsplit(".", 1)[-1] if "." in name else "raw"
            why = f"a {image} image on storage '{storage}' ({kind}), which snapshots only qcow2"
        else:
            why = f"on storage '{storage}' ({kind or 'unknown type'}), which cannot snapshot"
        return f"disk {key} ({volid}) is {why}"
    return None


def check_limits(
    vmid: int,
    snapshots: list[VmSnapshot],
    name: str,
    policy: SnapshotPolicy,
    *,
    memory: bool,
    running: bool,
) -> None:
    """The policy and PVE's one-name rule, before anything changes."""
    if memory and not policy.allow_memory:
        raise PolicyDenied(
            "--memory (a RAM snapshot) is not allowed here (policy snapshots.allow_memory is "
            "false); take the snapshot without --memory"
        )
    if memory and not running:
        raise InvalidRequest(
            f"--memory saves the RAM of a running VM, and VM {vmid} is not running; "
            "take the snapshot without --memory",
            field="memory",
        )
    for snap in snapshots:
        if snap.name == name:
            raise Conflict(
                f"VM {vmid} already has a snapshot named `{name}`; choose another name "
                f"or delete it first (`snapshot delete {vmid} {name}`)"
            )
    limit = policy.max_per_vm
    if limit is not None and len(snapshots) >= limit:
        oldest = snapshots[0]
        raise PolicyDenied(
            f"VM {vmid} already has {len(snapshots)} snapshot(s), the most "
            f"snapshots.max_per_vm allows ({limit}); delete one first, e.g. the oldest: "
            f"`snapshot delete {vmid} {oldest.name}`"
        )


def age_text(age: timedelta) -> str:
    """``3 days``, ``5 hours``, ``12 minutes``: how long ago, for people."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"
