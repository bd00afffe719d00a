"""Volume IDs as pve-storage parses them, for the storage reads that check a volume first.

- ``src/PVE/Storage/Plugin.pm`` ``parse_volume_id`` ("unable to parse volume ID '<volid>'")
  and ``parse_volname`` of the directory plugin (``images`` as ``<vmid>/<name>``, ``iso/``,
  ``vztmpl/``, ``backup/`` with the ``vzdump-<type>-<vmid>-`` owner, ``snippets/``,
  ``import/``; anything else "unable to parse directory volume name '<volname>'").
- ``src/PVE/Storage/LvmThinPlugin.pm`` ``parse_volname``: ``vm-``/``base-<vmid>-...`` images
  only, else "unable to parse lvm volume name '<volname>'".
- ``src/PVE/Storage.pm`` ``check_volume_access`` (the content-type check and the
  ``Datastore.Allocate`` short cut, then the per-type privileges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state import Cluster
from solti.sandbox.pve.state.records import Storage

VOLID_RE = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$", re.IGNORECASE)
DIR_NAMES = [
    ("images", re.compile(r"^(\d+)/(\S+?)(?:\.(raw|qcow2|vmdk|subvol))?$")),
    ("iso", re.compile(r"^iso/[^/]+\.(?:iso|img)$", re.IGNORECASE)),
    ("vztmpl", re.compile(r"^vztmpl/[^/]+\.tar\.(?:gz|xz|zst|bz2)$")),
    ("backup", re.compile(r"^backup/([^/]+\.(?:vma|tar|tgz)(?:\.(?:gz|lzo|zst|bz2))?)$")),
    ("snippets", re.compile(r"^snippets/[^/]+$")),
    ("import", re.compile(r"^import/[^/]+\.(ova|ovf|qcow2|raw|vmdk)$")),
]
BACKUP_OWNER = re.compile(r"^backup/vzdump-(?:openvz|lxc|qemu)-(\d+)-")


@dataclass(frozen=True)
class VolumeName:
    storage: Storage
    volid: str
    volname: str
    vtype: str
    owner: int | None
    format: str


def split_volid(volid: str) -> tuple[str, str]:
    match = VOLID_RE.match(volid)
    if not match:
        raise PveError(500, f"unable to parse volume ID '{volid}'\n")
    return match.group(1), match.group(2)


def parse(cluster: Cluster, volid: str) -> VolumeName:
    """``PVE::Storage::parse_volname``: the storage must exist, the name fit its plugin."""
    storage_id, volname = split_volid(volid)
    storage = cluster.storages.require(storage_id)
    if not storage.file_based:
        match = re.match(r"^(vm|base)-(\d+)-\S+$", volname)
        if not match:
            raise PveError(500, f"unable to parse lvm volume name '{volname}'\n")
        return VolumeName(storage, volid, volname, "images", int(match.group(2)), "raw")
    for vtype, pattern in DIR_NAMES:
        match = pattern.match(volname)
        if not match:
            continue
        owner = None
        fmt = "raw"
        if vtype == "images":
            owner, fmt = int(match.group(1)), match.group(3) or "raw"
        elif vtype == "import":
            fmt = match.group(1)
        elif vtype == "backup" and (found := BACKUP_OWNER.match(volname)):
            owner = int(found.group(1))
        return VolumeName(storage, volid, volname, vtype, owner, fmt)
    raise PveError(500, f"unable to parse directory volume name '{volname}'\n")


def check_access(cluster: Cluster, volid: str, wanted: str | None = None) -> VolumeName:
    """``check_volume_access`` for the token (``$vmid`` undef, as the storage reads pass)."""
    name = parse(cluster, volid)
    if wanted and name.vtype != wanted:
        raise PveError(500, f"unable to use volume {volid} - content type needs to be '{wanted}'\n")
    storage_path = f"/storage/{name.storage.id}"
    access = cluster.access
    if access.has(storage_path, "Datastore.Allocate"):
        return name
    if name.vtype in ("iso", "vztmpl", "import"):
        access.check_privileges(storage_path, ["Datastore.AllocateSpace", "Datastore.Audit"])
    elif name.vtype == "backup" and name.owner:
        access.check_privileges(storage_path, ["Datastore.AllocateSpace"])
        access.check_privileges(f"/vms/{name.owner}", ["VM.Backup"])
    elif name.vtype == "images" and name.owner:
        access.check_privileges(storage_path, ["Datastore.Audit"])
        access.check_privileges(f"/vms/{name.owner}", ["VM.Config.Disk"])
    else:
        raise PveError(500, f"missing privileges to access {volid}\n")
    return name
