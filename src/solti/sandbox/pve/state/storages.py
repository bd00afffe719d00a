"""Storages and the volumes on them: allocation, lookups, listings and import files.

``Storages`` owns both; every other part asks it for a volume, a new disk or a removal.
Volumes are filed by (storage, node or None if shared, volname).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.records import Storage, Volume
from solti.sandbox.pve.state.tasks import Now, TaskError


def default_storages(shared_storage: bool) -> dict[str, Storage]:
    """``local`` (dir) and ``local-lvm`` (lvmthin) as the installer makes them, plus an NFS
    ``shared`` one when asked (for cross-node clones)."""
    storages = {
        "local": Storage(
            "local", "dir", {"iso", "vztmpl", "backup", "import", "snippets"}, False, "/var/lib/vz"
        ),
        "local-lvm": Storage("local-lvm", "lvmthin", {"images", "rootdir"}),
    }
    if shared_storage:
        storages["shared"] = Storage(
            "shared", "nfs", {"images", "import", "iso"}, True, "/mnt/pve/shared"
        )
    return storages


class Storages(Mapping[str, Storage]):
    """The storage definitions (a read-only mapping by id) and every volume on them."""

    def __init__(self, now: Now, shared_storage: bool = False) -> None:
        self._now = now
        self._storages = default_storages(shared_storage)
        self._volumes: dict[tuple[str, str | None, str], Volume] = {}

    # -- the mapping of definitions ------------------------------------------------------
    def __getitem__(self, storage_id: str) -> Storage:
        return self._storages[storage_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._storages)

    def __len__(self) -> int:
        return len(self._storages)

    def require(self, storage_id: str) -> Storage:
        storage = self._storages.get(storage_id)
        if storage is None:
            raise PveError(500, f"storage '{storage_id}' does not exist")
        return storage

    def require_images(self, storage_id: str) -> Storage:
        """A storage VM disks may go on (parameter check, as qemu-server words it)."""
        storage = self.require(storage_id)
        if "images" not in storage.content:
            raise PveError(
                400,
                "Parameter verification failed.",
                {"storage": f"storage '{storage_id}' does not support vm images"},
            )
        return storage

    # -- storage.cfg ``nodes`` -------------------------------------------------------------
    def restrict(self, storage_id: str, nodes: list[str] | None) -> None:
        """Set storage.cfg's ``nodes`` option of ``storage_id`` (None or empty: all nodes)."""
        if storage_id not in self._storages:
            raise ValueError(
                f"no storage {storage_id!r}; storages: {', '.join(sorted(self._storages))}"
            )
        self._storages[storage_id].nodes = frozenset(nodes) if nodes else None

    def enabled_on(self, storage_id: str, node: str) -> bool:
        """pve-storage ``PVE/Storage.pm`` ``storage_check_node`` with ``$noerr``."""
        allowed = self._storages[storage_id].nodes
        return allowed is None or node in allowed

    def check_enabled(self, storage_id: str, node: str) -> Storage:
        """pve-storage ``PVE/Storage.pm`` ``storage_check_enabled`` (the simulator never
        disables a storage, so its ``storage_check_node`` part): a storage whose ``nodes``
        option leaves ``node`` out is not available there."""
        storage = self.require(storage_id)
        if not self.enabled_on(storage_id, node):
            raise PveError(500, f"storage '{storage_id}' is not available on node '{node}'")
        return storage

    def _reaches(self, storage: Storage, target: str) -> bool:
        """Status.pm ``index`` with ``target``: shared and enabled on the target too."""
        return storage.shared and self.enabled_on(storage.id, target)

    def _scope(self, storage_id: str, node: str) -> str | None:
        return None if self._storages[storage_id].shared else node

    # -- volumes -----------------------------------------------------------------------
    def find_volume(self, volid: str, node: str) -> Volume | None:
        storage_id, _, volname = volid.partition(":")
        if storage_id not in self._storages:
            return None
        return self._volumes.get((storage_id, self._scope(storage_id, node), volname))

    def _file(self, volume: Volume) -> Volume:
        self._volumes[volume.key] = volume
        return volume

    def remove_volume(self, volume: Volume) -> None:
        self._volumes.pop(volume.key, None)

    def volumes_of(self, vmid: int) -> list[Volume]:
        """Every volume owned by VM ``vmid``, on any storage and node."""
        return [v for v in self._volumes.values() if v.vmid == vmid]

    def remove_volumes_of(self, vmid: int) -> None:
        for volume in self.volumes_of(vmid):
            self.remove_volume(volume)

    def alloc_disk(
        self,
        storage_id: str,
        node: str,
        vmid: int,
        size: int,
        *,
        name: str | None = None,
        parent: str | None = None,
        worker: str | None = None,
    ) -> Volume:
        """Allocate ``vm-<vmid>-disk-N`` (or a named volume) the way the storage names it.

        ``Storage.pm`` ``vdisk_alloc`` and ``vdisk_clone`` first ``activate_storage``, which
        runs ``storage_check_enabled`` for the node doing the work (``worker``, else ``node``):
        they run in workers, so a storage not enabled there fails the task.
        """
        storage = self._storages[storage_id]
        worker = worker or node
        if not self.enabled_on(storage_id, worker):
            raise TaskError(f"storage '{storage_id}' is not available on node '{worker}'")
        scope = self._scope(storage_id, node)
        if name is None:
            taken = {
                v.volname
                for v in self._volumes.values()
                if v.storage == storage_id and v.vmid == vmid
            }
            index = 0
            while any(f"-{vmid}-disk-{index}" in t for t in taken):
                index += 1
            name = f"vm-{vmid}-disk-{index}"
        if storage.file_based:
            base = f"{parent}/" if parent else ""
            volname = f"{base}{vmid}/{name}.qcow2" if parent else f"{vmid}/{name}.qcow2"
            fmt = "qcow2"
        else:
            volname, fmt = name, "raw"
        return self._file(
            Volume(storage_id, scope, volname, "images", fmt, size, int(self._now()), vmid, parent)
        )

    def rename_to_base(self, volume: Volume) -> Volume:
        """Template conversion: ``vm-9000-disk-0`` -> ``base-9000-disk-0``."""
        self.remove_volume(volume)
        volume.volname = volume.volname.replace(
            f"vm-{volume.vmid}-disk", f"base-{volume.vmid}-disk"
        )
        return self._file(volume)

    def linked_children(self, volume: Volume) -> list[Volume]:
        """The linked clones of a base volume as pve-storage ``Storage.pm``
        ``volume_is_base_and_used`` finds them: through ``list_images``, which on file
        storages reads each image's backing file; ``LvmThinPlugin.pm`` ``list_images`` has no
        ``parent``, so on LVM-thin none are found ("LVM-thin allows deletion of still
        referenced base volumes!", ``vdisk_free``)."""
        if not self._storages[volume.storage].file_based:
            return []
        return [
            v
            for v in self._volumes.values()
            if v.storage == volume.storage and v.parent == volume.volname
        ]

    # -- listings -----------------------------------------------------------------------
    def status(self, node: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """pve-storage ``PVE/API2/Storage/Status.pm`` ``index`` over ``Storage.pm``
        ``storage_info``: a storage not enabled on ``node`` is listed with ``enabled: 0``,
        ``active: 0`` and zero sizes, or left out when a ``content`` filter is given; with
        ``target`` only shared storages enabled on both nodes (the clone dialog's list)."""
        wanted = set(re.split(r"[,;\s]+", params["content"])) if params.get("content") else None
        target = params.get("target")
        rows = []
        for storage in self._storages.values():
            if params.get("storage") and storage.id != params["storage"]:
                continue
            if wanted and not wanted & storage.content:
                continue
            enabled = self.enabled_on(storage.id, node)
            if wanted and not enabled:
                continue
            if (
                target
                and target not in (node, "localhost")
                and not (enabled and self._reaches(storage, target))
            ):
                continue
            if not enabled:
                rows.append(
                    {
                        "storage": storage.id,
                        "type": storage.type,
                        "content": ",".join(sorted(storage.content)),
                        "active": 0,
                        "enabled": 0,
                        "shared": int(storage.shared),
                        "total": 0,
                        "used": 0,
                        "avail": 0,
                    }
                )
                continue
            used = sum(
                v.size
                for v in self._volumes.values()
                if v.storage == storage.id and v.node in (None, node)
            )
            rows.append(
                {
                    "storage": storage.id,
                    "type": storage.type,
                    "content": ",".join(sorted(storage.content)),
                    "active": 1,
                    "enabled": 1,
                    "shared": int(storage.shared),
                    "total": storage.total,
                    "used": used,
                    "avail": storage.total - used,
                    "used_fraction": used / storage.total,
                }
            )
        return rows

    def content(
        self, node: str, storage_id: str, content: str | None, vmid: int | None
    ) -> list[dict[str, Any]]:
        self.require(storage_id)
        scope = self._scope(storage_id, node)
        rows = []
        for volume in self._volumes.values():
            if volume.storage != storage_id or volume.node != scope:
                continue
            if content and volume.content != content:
                continue
            if vmid is not None and volume.vmid != vmid:
                continue
            row: dict[str, Any] = {
                "volid": volume.volid,
                "format": volume.format,
                "size": volume.size,
                "content": volume.content,
                "ctime": volume.ctime,
            }
            if volume.vmid is not None:
                row["vmid"] = volume.vmid
            # ``Plugin.pm`` ``list_images``: the qcow2 backing file as qemu-img reports it,
            # relative to the image's directory; LVM-thin lists no parent at all.
            if volume.parent and self._storages[storage_id].file_based:
                row["parent"] = f"../{volume.parent}"
            rows.append(row)
        return sorted(rows, key=lambda r: r["volid"])

    # -- import files -------------------------------------------------------------------
    def add_file(
        self, storage_id: str, content: str, filename: str, data: bytes, node: str = "pve"
    ) -> Volume:
        """Seed helper and download result: a file such as ``local:import/noble.qcow2``."""
        folder = "iso" if content == "iso" else content
        volname = f"{folder}/{filename}"
        fmt = filename.rsplit(".", 1)[-1] if content == "import" else content
        return self._file(
            Volume(
                storage_id,
                self._scope(storage_id, node),
                volname,
                content,
                fmt,
                len(data),
                int(self._now()),
                data=data,
            )
        )
