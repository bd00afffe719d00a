"""Storage content: volume allocation, listings, import files and download-url planning."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from solti.sandbox.pve.errors import PveError
from solti.sandbox.pve.state.tasks import TaskError

if TYPE_CHECKING:
    from solti.sandbox.pve.state.cluster import Cluster, Storage, Volume

FILENAME_RULES = {
    "import": (
        re.compile(r"^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$"),
        "invalid filename or wrong extension",
    ),
    "iso": (re.compile(r"^[^/]+\.(iso|img)$", re.I), "wrong file extension"),
    "vztmpl": (re.compile(r"^[^/]+\.tar\.([gx]z|zst|bz2)$"), "wrong file extension"),
}
CONTENT_DIRS = {"import": "import", "iso": "template/iso", "vztmpl": "template/cache"}


@dataclass
class DownloadPlan:
    """What a download-url call will do, decided under the lock before any fetching."""

    node: str
    storage: str
    content: str
    filename: str
    path: str
    exists: bool
    existing_sum: str | None
    checksum: str | None
    algorithm: str | None

    @property
    def needs_fetch(self) -> bool:
        return not self.exists


class StorageMixin:
    """Volumes live in ``self.volumes`` keyed by (storage, node or None if shared, volname)."""

    def storage_on(self: Cluster, node: str, storage_id: str) -> Storage:
        storage = self.storages.get(storage_id)
        if storage is None:
            raise PveError(500, f"storage '{storage_id}' does not exist")
        return storage

    def _scope(self: Cluster, storage_id: str, node: str) -> str | None:
        return None if self.storages[storage_id].shared else node

    def find_volume(self: Cluster, volid: str, node: str) -> Volume | None:
        storage_id, _, volname = volid.partition(":")
        if storage_id not in self.storages:
            return None
        return self.volumes.get((storage_id, self._scope(storage_id, node), volname))

    def add_volume(self: Cluster, volume: Volume) -> Volume:
        self.volumes[(volume.storage, volume.node, volume.volname)] = volume
        return volume

    def remove_volume(self: Cluster, volume: Volume) -> None:
        self.volumes.pop((volume.storage, volume.node, volume.volname), None)

    def alloc_disk(
        self: Cluster,
        storage_id: str,
        node: str,
        vmid: int,
        size: int,
        *,
        name: str | None = None,
        parent: str | None = None,
    ) -> Volume:
        """Allocate ``vm-<vmid>-disk-N`` (or a named volume) the way the storage names it."""
        from solti.sandbox.pve.state.cluster import Volume

        storage = self.storages[storage_id]
        scope = self._scope(storage_id, node)
        if name is None:
            taken = {
                v.volname
                for v in self.volumes.values()
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
        return self.add_volume(
            Volume(storage_id, scope, volname, "images", fmt, size, int(self.now), vmid, parent)
        )

    def rename_to_base(self: Cluster, volume: Volume) -> Volume:
        """Template conversion: ``vm-9000-disk-0`` -> ``base-9000-disk-0``."""
        self.remove_volume(volume)
        volume.volname = volume.volname.replace(
            f"vm-{volume.vmid}-disk", f"base-{volume.vmid}-disk"
        )
        return self.add_volume(volume)

    def linked_children(self: Cluster, volume: Volume) -> list[Volume]:
        return [
            v
            for v in self.volumes.values()
            if v.storage == volume.storage and v.parent == volume.volname
        ]

    # -- listings -----------------------------------------------------------------------
    def storage_status(self: Cluster, node: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = set(re.split(r"[,;\s]+", params["content"])) if params.get("content") else None
        rows = []
        for storage in self.storages.values():
            if params.get("storage") and storage.id != params["storage"]:
                continue
            if wanted and not wanted & storage.content:
                continue
            used = sum(
                v.size
                for v in self.volumes.values()
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

    def storage_content(
        self: Cluster, node: str, storage_id: str, content: str | None, vmid: int | None
    ) -> list[dict[str, Any]]:
        self.storage_on(node, storage_id)
        scope = self._scope(storage_id, node)
        rows = []
        for volume in self.volumes.values():
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
            if volume.parent:
                row["parent"] = volume.parent
            rows.append(row)
        return sorted(rows, key=lambda r: r["volid"])

    # -- import files -------------------------------------------------------------------
    def add_file(
        self: Cluster, storage_id: str, content: str, filename: str, data: bytes, node: str = "pve"
    ) -> Volume:
        """Seed helper and download result: a file such as ``local:import/noble.qcow2``."""
        from solti.sandbox.pve.state.cluster import Volume

        folder = "iso" if content == "iso" else content
        volname = f"{folder}/{filename}"
        fmt = filename.rsplit(".", 1)[-1] if content == "import" else content
        return self.add_volume(
            Volume(
                storage_id,
                self._scope(storage_id, node),
                volname,
                content,
                fmt,
                len(data),
                int(self.now),
                data=data,
            )
        )

    def plan_download(self: Cluster, node: str, params: dict[str, Any]) -> DownloadPlan:
        """The checks download-url makes before forking (HTTP errors)."""
        storage = self.storage_on(node, params["storage"])
        content = params["content"]
        if not storage.file_based:
            raise PveError(
                500, f"can't upload to storage type '{storage.type}', not a file based storage!"
            )
        if content not in storage.content:
            raise PveError(
                500, f"storage '{storage.id}' is not configured for content-type '{content}'"
            )
        filename = re.sub(r"[^a-zA-Z0-9_.\-]", "_", params["filename"].rsplit("/", 1)[-1])
        pattern, message = FILENAME_RULES[content]
        if not pattern.match(filename):
            raise PveError(400, "Parameter verification failed.", {"filename": message})
        folder = "iso" if content == "iso" else content
        existing = self.volumes.get(
            (storage.id, self._scope(storage.id, node), f"{folder}/{filename}")
        )
        algorithm = params.get("checksum-algorithm")
        existing_sum = None
        if existing is not None and algorithm and existing.data is not None:
            existing_sum = hashlib.new(algorithm, existing.data).hexdigest()
        return DownloadPlan(
            node,
            storage.id,
            content,
            filename,
            f"{storage.path}/{CONTENT_DIRS[content]}/{filename}",
            existing is not None,
            existing_sum,
            (params.get("checksum") or "").lower() or None,
            algorithm,
        )

    def start_download(
        self: Cluster, plan: DownloadPlan, user: str, data: bytes | None, fetch_error: str | None
    ) -> str:
        """Start the ``download`` task whose outcome was fetched (or not) beforehand."""

        def work() -> list[str]:
            if plan.exists:
                if plan.checksum is None:
                    raise TaskError(f"refusing to override existing file '{plan.path}'")
                if plan.existing_sum != plan.checksum:
                    raise TaskError(
                        f"checksum mismatch: got '{plan.existing_sum}' != expect '{plan.checksum}'"
                        ", aborting"
                    )
                return [f"file '{plan.path}' already exists, checksum matches, skipping download"]
            if fetch_error is not None or data is None:
                raise TaskError(f"download failed: {fetch_error}")
            if plan.checksum and plan.algorithm:
                got = hashlib.new(plan.algorithm, data).hexdigest()
                if got != plan.checksum:
                    raise TaskError(f"checksum mismatch: got '{got}' != expect '{plan.checksum}'")
            self.add_file(plan.storage, plan.content, plan.filename, data, plan.node)
            return [f"downloading to {plan.path}", f"download of {len(data)} bytes finished"]

        return self.start_task(plan.node, "download", plan.filename, user, work).upid
