"""Storage reads about one volume, backups and imports, answered from the simulator's volumes.

- pve-storage ``src/PVE/API2/Storage/Content.pm`` ``info`` (``content/{volume}``):
  ``$real_volume_id`` (a volume ID naming another storage: ``raise_param_exc`` "storage ID
  mismatch"), ``check_volume_access``, then ``path`` and ``volume_size_info``: LVM
  (``LVMPlugin.pm``) asks ``lvs`` for the size and reports format ``raw``, used ``0``, the
  path ``/dev/<vg>/<name>`` (``LvmThinPlugin.pm`` ``filesystem_path``; the installer's VG is
  ``pve``); a directory storage asks ``qemu-img info`` in the format ``parse_volname`` names
  (``Plugin.pm`` ``file_size_info``: virtual size, format, actual size; a missing file leaves
  no format, "volume_size_info on '<volid>' failed - no format"). Neither plugin
  keeps notes or protection for images, so those keys stay out.
- ``src/PVE/API2/Storage/PruneBackups.pm`` ``dryrun`` -> ``PVE/Storage.pm``
  ``prune_backups``: "storage '<id>' does not support backups" without ``backup`` content; with
  it, no ``prune-backups`` given and none configured "no prune-backups options configured";
  otherwise one entry per backup (the simulator has none: ``[]``).
- ``src/PVE/API2/Storage/FileRestore.pm`` ``list``/``download``: ``$parse_volname_or_id``,
  ``check_volume_access(..., 'backup')``, then only a ``pbs`` storage may go on
  (``raise_param_exc`` "Only PBS storages supported for file-restore."); the simulator has none.
- ``src/PVE/API2/Storage/Status.pm`` ``get_import_metadata`` -> ``Storage.pm``
  ``get_import_metadata``: plugins without the importer API (LVM) "storage does not support
  the importer API"; ``DirPlugin.pm``/``NFSPlugin.pm`` ``get_import_metadata`` take only
  ``import`` content ("invalid content type '<vtype>'") in ``ova``/``ovf`` format ("invalid
  format"). The simulator does not model OVF manifests, so an OVA/OVF it holds is not routed
  further (501).
"""

from __future__ import annotations

from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError, not_implemented, param_error
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers import volume_names as names

LVM_VG = "pve"
# Plugin.pm $vtype_subdirs.
VTYPE_SUBDIRS = {
    "images": "images", "rootdir": "private", "iso": "template/iso", "vztmpl": "template/cache",
    "backup": "dump", "snippets": "snippets", "import": "import",
}  # fmt: skip
IMPORTER_TYPES = {"dir", "nfs", "cifs", "cephfs", "btrfs", "esxi"}


def _real_volume_id(storage: str | None, volume: str) -> str:
    if ":" in volume:
        sid = names.split_volid(volume)[0] if names.VOLID_RE.match(volume) else None
        if sid is None:
            raise param_error({"volume": f"unable to parse volume ID '{volume}'\n"})
        if storage and sid != storage:
            raise param_error({"volume": f"storage ID mismatch ({sid} != {storage})\n"})
        return volume
    if not storage:
        raise param_error({"volume": "no storage specified - incomplete volume ID"})
    return f"{storage}:{volume}"


def volume_info(call: Call) -> dict[str, Any]:
    volid = _real_volume_id(call.params.get("storage"), call.params["volume"])
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        name = names.check_access(cluster, volid)
        volume = cluster.storages.find_volume(volid, call.node)
    storage = name.storage
    if not storage.file_based:
        path = f"/dev/{LVM_VG}/{name.volname}"
        if volume is None:
            raise PveError(
                500,
                f"can't get size of '{path}': command '/sbin/lvs --separator : --noheadings "
                f"--units b --unbuffered --nosuffix --options lv_size {path}' failed: "
                "exit code 5\n",
            )
        return {"path": path, "size": volume.size, "used": 0, "format": "raw"}
    if volume is None:
        raise PveError(500, f"volume_size_info on '{volid}' failed - no format\n")
    rest = name.volname.split("/", 1)[1] if name.vtype != "images" else name.volname
    path = f"{storage.path}/{VTYPE_SUBDIRS[name.vtype]}/{rest}"
    # qemu-img info: the virtual size (a qcow2's from its header), the file's bytes as used.
    size = qcow2_virtual_size(volume.data) if name.format == "qcow2" else None
    return {"path": path, "size": size or volume.size, "used": volume.size, "format": name.format}


def qcow2_virtual_size(data: bytes | None) -> int | None:
    """The ``size`` field of a qcow2 header (big-endian u64 at byte 24), if ``data`` is one."""
    if not data or len(data) < 32 or data[:4] != b"QFI\xfb":
        return None
    return int.from_bytes(data[24:32], "big")


def prune_backups(call: Call) -> list[dict[str, Any]]:
    storage_id = call.params["storage"]
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        storage = cluster.storages.require(storage_id)
    if "backup" not in storage.content:
        raise PveError(500, f"storage '{storage_id}' does not support backups\n")
    if call.params.get("prune-backups") is None:
        raise PveError(500, f"no prune-backups options configured for storage '{storage_id}'\n")
    return []


def _backup_volid(storage: str, volume: str) -> str:
    """FileRestore.pm ``$parse_volname_or_id``."""
    if names.VOLID_RE.match(volume):
        sid = names.split_volid(volume)[0]
        if sid != storage:
            raise param_error({"volume": f"storage ID mismatch ({sid} != {storage})."})
        return volume
    if volume.startswith("backup/"):
        return f"{storage}:{volume}"
    return f"{storage}:backup/{volume}"


def file_restore(call: Call) -> NoReturn:
    storage_id = call.params["storage"]
    volid = _backup_volid(storage_id, call.params["volume"])
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        storage = cluster.storages.require(storage_id)
        names.check_access(cluster, volid, "backup")
    if storage.type != "pbs":
        raise param_error({"storage": "Only PBS storages supported for file-restore."})
    raise not_implemented("GET", f"/nodes/{call.node}/storage/{storage_id}/file-restore")


def import_metadata(call: Call) -> NoReturn:
    volid = f"{call.params['storage']}:{call.params['volume']}"
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        name = names.check_access(cluster, volid)
    if name.storage.type not in IMPORTER_TYPES:
        raise PveError(500, "storage does not support the importer API\n")
    if name.vtype != "import":
        raise PveError(500, f"invalid content type '{name.vtype}'\n")
    if name.format not in ("ova", "ovf"):
        raise PveError(500, "invalid format\n")
    raise not_implemented("GET", f"/nodes/{call.node}/storage/{name.storage.id}/import-metadata")


STORAGE = "/nodes/{node}/storage/{storage}"
STORAGE_ITEM_READS: dict[str, Handler] = {
    f"{STORAGE}/content/{{volume}}": volume_info,
    f"{STORAGE}/prunebackups": prune_backups,
    f"{STORAGE}/file-restore/list": file_restore,
    f"{STORAGE}/file-restore/download": file_restore,
    f"{STORAGE}/import-metadata": import_metadata,
}
