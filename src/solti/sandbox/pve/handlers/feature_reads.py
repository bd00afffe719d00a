"""``GET /nodes/{node}/qemu/{vmid}/feature``: whether every disk's storage can snapshot,
clone or copy it, and on which nodes the VM's volumes are all reachable.

- qemu-server ``src/PVE/API2/Qemu.pm`` ``vm_feature``: the config (or the ``snapname``
  snapshot's, which must exist), ``PVE::QemuConfig->has_feature`` and ``shared_nodes``.
- qemu-server ``src/PVE/QemuConfig.pm`` ``has_feature``: every volume but cd-roms must have
  the feature (``PVE::Storage::volume_has_feature``), keyed ``snap`` with a snapshot name,
  else ``base`` for a template's base volume, else ``current``.
- pve-storage ``volume_has_feature`` per plugin: ``LvmThinPlugin.pm`` (any format),
  ``ZFSPoolPlugin.pm`` (any format), ``LVMPlugin.pm`` and ``Plugin.pm`` (file storages: dir,
  NFS, CIFS...) by image format.
- qemu-server ``src/PVE/QemuServer.pm`` ``shared_nodes``: start from every cluster node;
  each volume's storage (cd-roms included) drops the nodes outside its ``nodes`` list, or,
  when not shared, every node but the answering one.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.drives import is_drive_key, parse_drive, split_volid

# feature -> key -> formats (None: any format), per plugin family.
IMAGES = {"qcow2", "raw", "vmdk"}
BY_FORMAT = {  # Plugin.pm (file storages)
    "snapshot": {"current": {"qcow2"}, "snap": {"qcow2"}},
    "clone": {"base": IMAGES},
    "copy": {"base": IMAGES, "current": IMAGES, "snap": {"qcow2"}},
}
LVM = {  # LVMPlugin.pm
    "snapshot": {"current": {"qcow2"}, "snap": {"qcow2"}},
    "copy": {"base": {"qcow2", "raw"}, "current": {"qcow2", "raw"}, "snap": {"qcow2"}},
}
LVMTHIN = {  # LvmThinPlugin.pm
    "snapshot": {"current": None},
    "clone": {"base": None, "snap": None},
    "copy": {"base": None, "current": None, "snap": None},
}
ZFS = {  # ZFSPoolPlugin.pm
    "snapshot": {"current": None, "snap": None},
    "clone": {"base": None},
    "copy": {"base": None, "current": None},
}
TABLES = {"lvmthin": LVMTHIN, "zfspool": ZFS, "lvm": LVM}


def _format(volname: str) -> str:
    """The image format ``parse_volname`` reads from the name; block volumes are raw."""
    for fmt in ("qcow2", "vmdk"):
        if volname.endswith(f".{fmt}"):
            return fmt
    return "raw"


def volume_has_feature(storage: Any, volname: str, feature: str, snap: bool) -> bool:
    table = TABLES.get(storage.type, BY_FORMAT if storage.file_based else {})
    is_base = volname.rsplit("/", 1)[-1].startswith("base-")
    key = "snap" if snap else ("base" if is_base else "current")
    by_key = table.get(feature, {})
    if key not in by_key:
        return False
    formats = by_key[key]
    return formats is None or _format(volname) in formats


def vm_feature(call: Call) -> dict[str, Any]:
    feature = call.params["feature"]
    snapname = call.params.get("snapname")
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        guest = cluster.guests.on(call.node, call.vmid)
        conf = guest.conf
        if snapname:
            if snapname not in guest.snapshots:
                raise PveError(500, f"snapshot '{snapname}' does not exist")
            conf = guest.snapshots[snapname].conf
        nodes = set(cluster.nodes.names)
        has = True
        for key, value in conf.items():
            if not is_drive_key(key):
                continue
            drive = parse_drive(value)
            parts = split_volid(drive.get("file", ""))
            if parts is None or parts[0] not in cluster.storages:
                continue
            storage = cluster.storages[parts[0]]
            if storage.nodes is not None:
                nodes &= set(storage.nodes)
            elif not storage.shared:
                nodes &= {call.node}
            if drive.get("media") != "cdrom" and not volume_has_feature(
                storage, parts[1], feature, bool(snapname)
            ):
                has = False
    return {"hasFeature": int(has), "nodes": sorted(nodes)}


FEATURE_READS: dict[str, Handler] = {"/nodes/{node}/qemu/{vmid}/feature": vm_feature}
