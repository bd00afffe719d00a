"""The node's own disk, LVM and ZFS, as a node installed from the 9.1 ISO on one disk has them.

The simulator models storages, not block devices, so each node has the installer's default
layout (``ext4``/LVM target), sized from the simulator's storages:

- one disk ``/dev/sda`` (the node is a QEMU guest: ``Nodes.hardware`` reports "QEMU Virtual
  CPU"), GPT with partition 1 "BIOS boot", 2 the EFI system partition (1 GiB), 3 an LVM PV;
- volume group ``pve`` on ``/dev/sda3`` holding ``swap`` (the installer's ``swapsize``: the
  node's memory, at least 4 GiB and at most 8 GiB), ``root`` (behind the ``local`` storage,
  its size the storage's), the thin pool ``data`` (behind ``local-lvm``, its size the
  storage's, its use the storage's), the pool's metadata (1% of the pool) and its spare, and
  the installer's ``minfree`` of 16 GiB left free.

Answers, by handler:

- pve-storage ``PVE/API2/Disks/LVM.pm`` ``index``: ``lvm_vgs(1)`` as a tree of VGs and PVs.
- ``PVE/API2/Disks/LVMThin.pm`` ``index`` and ``API2/Storage/Scan.pm`` ``lvmthinscan``:
  ``LvmThinPlugin::list_thinpools`` (``lvs``: ``lv``, ``vg``, ``lv_size``, ``used``,
  ``metadata_size``, ``metadata_used``, ``lv_state``, ``lv_type``, ``ctime``); ``lvs`` of a
  volume group that does not exist fails, and ``run_command`` dies with its command line.
- ``API2/Storage/Scan.pm`` ``lvmscan``: ``lvm_vgs()`` (``vg``, ``size``, ``free``,
  ``lvcount``).
- ``PVE/API2/Disks/ZFS.pm`` ``detail``: ``zpool status -P <name>`` fails for a pool that
  does not exist (an LVM install has none), and ``run_command`` dies "command '...' failed:
  exit code 1".
- ``PVE/API2/Disks.pm`` ``list`` (``Diskmanage::get_disks``): without partitions a disk's
  ``used`` is its first partition's ("BIOS boot"); ``mounted`` only when mounted and
  ``osdid-list`` undef (JSON null), as PVE sends them. ``smart``: ``verify_blockdev_path``
  dies "not a valid block device" for anything but the node's disk; QEMU's SCSI disk has no
  SMART, so ``health`` is ``UNKNOWN``.
- pve-manager ``PVE/API2/Hardware/PCI.pm`` ``pciscan``/``pciindex``/``mdevscan`` over
  pve-common ``SysFSTools::lspci``/``get_mdev_types``: the PCI functions of QEMU's ``pc``
  (i440FX) machine the node runs on, without an IOMMU (``iommugroup`` -1) and without
  mediated devices (``mdev`` types: none). ``Hardware/USB.pm`` ``usbscan``
  (``SysFSTools::scan_usb``): the UHCI controller's root hub.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.state.nodes import GIB

MIB = 1024**2
DEFAULT_STORAGE_SIZE = 512 * GIB
MINFREE = 16 * GIB
ESP_SIZE = 1 * GIB
BIOS_BOOT = 1007 * 1024  # sectors 34..2047
DISK = "/dev/sda"
VG = "pve"
EXTENT = 4 * MIB


def _extents(size: int) -> int:
    """LVM allocates whole 4 MiB extents."""
    return (size + EXTENT - 1) // EXTENT * EXTENT


def layout(call: Call) -> dict[str, Any]:
    """The installer's volumes on the node, from the model's storages and node memory."""
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        storages = cluster.storages
        root = storages["local"].total if "local" in storages else DEFAULT_STORAGE_SIZE
        data = storages["local-lvm"].total if "local-lvm" in storages else DEFAULT_STORAGE_SIZE
        used = 0
        thin_volumes = 0
        if "local-lvm" in storages:
            rows = storages.content(call.node, "local-lvm", None, None)
            used = sum(row["size"] for row in rows)
            thin_volumes = len(rows)
        memory = cluster.nodes.memory[call.node]
        # lvs ``time``: the installer made the pool; the node has been up a day (Nodes.stats).
        created = int(cluster.now) - 86400
    swap = min(max(memory, 4 * GIB), 8 * GIB)
    meta = _extents(data // 100)
    vg_size = _extents(swap) + _extents(root) + _extents(data) + 2 * meta + MINFREE
    return {
        "swap": swap,
        "root": root,
        "data": data,
        "data_used": min(used, data),
        "meta": meta,
        "vg_size": vg_size,
        "vg_free": MINFREE,
        "lvcount": 3 + thin_volumes,
        "disk_size": BIOS_BOOT + MIB + ESP_SIZE + vg_size,
        "created": created,
    }


def disks_lvm(call: Call) -> dict[str, Any]:
    size = layout(call)
    pv = {"name": f"{DISK}3", "size": size["vg_size"], "free": size["vg_free"], "leaf": 1}
    vg = {
        "name": VG,
        "size": size["vg_size"],
        "free": size["vg_free"],
        "lvcount": size["lvcount"],
        "leaf": 0,
        "children": [pv],
    }
    return {"leaf": 0, "children": [vg]}


# LVMPlugin.pm lvm_list_volumes: the lvs command line, as run_command quotes it.
LVS = (
    "/sbin/lvs --separator : --noheadings --units b --unbuffered --nosuffix --config "
    "'report/time_format=\"%s\"' --options vg_name,lv_name,lv_size,lv_attr,pool_lv,"
    "data_percent,metadata_percent,snap_percent,uuid,tags,metadata_size,time"
)


def thinpools(call: Call, vg: str | None = None) -> list[dict[str, Any]]:
    size = layout(call)
    if vg not in (None, VG):
        # lvs exits 5 (ECMD_FAILED) for a volume group that is not there.
        raise PveError(500, f"command '{LVS} {vg}' failed: exit code 5\n")
    return [
        {
            "lv": "data",
            "vg": VG,
            "lv_size": size["data"],
            "used": size["data_used"],
            "metadata_size": size["meta"],
            "metadata_used": 0,
            "lv_state": "a",
            "lv_type": "t",
            "ctime": str(size["created"]),
        }
    ]


def disks_lvmthin(call: Call) -> list[dict[str, Any]]:
    return thinpools(call)


def scan_lvmthin(call: Call) -> list[dict[str, Any]]:
    return thinpools(call, call.params["vg"])


def scan_lvm(call: Call) -> list[dict[str, Any]]:
    size = layout(call)
    return [
        {"vg": VG, "size": size["vg_size"], "free": size["vg_free"], "lvcount": size["lvcount"]}
    ]


def zfs_detail(call: Call) -> NoReturn:
    layout(call)
    name = call.params["name"]
    raise PveError(500, f"command '/sbin/zpool status -P {name}' failed: exit code 1\n")


def _disk_row(size: dict[str, Any]) -> dict[str, Any]:
    return {
        "devpath": DISK,
        "size": size["disk_size"],
        "vendor": "QEMU",
        "model": "QEMU_HARDDISK",
        "serial": "drive-scsi0",
        "wwn": "unknown",
        "type": "hdd",
        "rpm": -1,
        "gpt": 1,
        "health": "UNKNOWN",
        "wearout": "N/A",
        "by_id_link": "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsi0",
        "used": "BIOS boot",
        "osdid": -1,
        "osdid-list": None,
    }


def _partitions(size: dict[str, Any]) -> list[dict[str, Any]]:
    parts = [("1", BIOS_BOOT, "BIOS boot", False), ("2", ESP_SIZE, "EFI", True)]
    parts.append(("3", size["vg_size"], "LVM", False))
    rows = []
    for number, part_size, used, mounted in parts:
        row: dict[str, Any] = {
            "devpath": f"{DISK}{number}",
            "parent": DISK,
            "gpt": 1,
            "type": "partition",
            "size": part_size,
            "used": used,
            "osdid": -1,
            "osdid-list": None,
            "wwn": "unknown",
        }
        if mounted:
            row["mounted"] = 1
        rows.append(row)
    return rows


def _wanted(row: dict[str, Any], kind: str | None) -> bool:
    """``list``'s ``type`` filter: ``unused`` drops what has a use; ``journal_disks`` keeps
    what is no OSD and unused, or a GPT disk with partitions, or LVM."""
    used = row.get("used")
    if kind == "unused":
        return not used
    if kind == "journal_disks":
        fits = not used or (used == "partitions" and row["gpt"]) or used == "LVM"
        return row["osdid"] < 0 and bool(fits)
    return True


def disks_list(call: Call) -> list[dict[str, Any]]:
    size = layout(call)
    disk = _disk_row(size)
    rows = [disk]
    if call.params.get("include-partitions") in (1, True, "1"):
        disk["used"] = "partitions"
        rows += _partitions(size)
    return [row for row in rows if _wanted(row, call.params.get("type"))]


def disks_smart(call: Call) -> dict[str, Any]:
    layout(call)
    if call.params["disk"] != DISK:
        raise PveError(500, "not a valid block device\n")
    return {"health": "UNKNOWN"}


# QEMU's ``pc`` machine: (slot, class, vendor, device, subsystem vendor/device, names).
INTEL = "Intel Corporation"
QEMU_SUB = ("0x1af4", "0x1100", "Red Hat, Inc.", "Qemu virtual machine")
PCI_FUNCTIONS = [
    ("0000:00:00.0", "0x060000", "0x8086", "0x1237", INTEL, "440FX - 82441FX PMC [Natoma]"),
    ("0000:00:01.0", "0x060100", "0x8086", "0x7000", INTEL, "82371SB PIIX3 ISA [Natoma/Triton II]"),
    ("0000:00:01.1", "0x010180", "0x8086", "0x7010", INTEL, "82371SB PIIX3 IDE [Natoma/Triton II]"),
    ("0000:00:01.2", "0x0c0300", "0x8086", "0x7020", INTEL, "82371SB PIIX3 USB [Natoma/Triton II]"),
    ("0000:00:01.3", "0x068000", "0x8086", "0x7113", INTEL, "82371AB/EB/MB PIIX4 ACPI"),
    ("0000:00:02.0", "0x030000", "0x1234", "0x1111", None, None),
    ("0000:00:12.0", "0x020000", "0x1af4", "0x1000", "Red Hat, Inc.", "Virtio network device"),
]  # fmt: skip
DEFAULT_CLASS_BLACKLIST = "05;06;0b"


def pci_scan(call: Call) -> list[dict[str, Any]]:
    layout(call)
    blacklist = call.params.get("pci-class-blacklist", DEFAULT_CLASS_BLACKLIST)
    classes = [c for c in re.split(r"[;,\s]+", blacklist or "") if c]
    verbose = call.params.get("verbose", 1) in (1, True, "1")
    rows = []
    for pci_id, cls, vendor, device, vendor_name, device_name in PCI_FUNCTIONS:
        if any(cls.startswith("0x" + c) for c in classes):
            continue
        row: dict[str, Any] = {
            "id": pci_id,
            "class": cls,
            "vendor": vendor,
            "device": device,
            "iommugroup": -1,
        }
        if verbose:
            sub_vendor, sub_device, sub_vendor_name, _ = QEMU_SUB
            if vendor_name:
                row["vendor_name"] = vendor_name
            if device_name:
                row["device_name"] = device_name
            row["subsystem_vendor"] = sub_vendor
            row["subsystem_device"] = sub_device
            row["subsystem_vendor_name"] = sub_vendor_name
        rows.append(row)
    return rows


def pci_index(call: Call) -> list[dict[str, str]]:
    return [{"method": "mdev"}]


def pci_mdev(call: Call) -> list[dict[str, Any]]:
    layout(call)
    return []


def usb_scan(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        release = cluster.nodes.hardware()["current-kernel"]["release"]
    return [
        {
            "port": 0,
            "level": 0,
            "busnum": 1,
            "devnum": 1,
            "speed": "12",
            "class": 9,
            "vendid": "1d6b",
            "prodid": "0001",
            "product": "UHCI Host Controller",
            "manufacturer": f"Linux {release} uhci_hcd",
        }
    ]


HOST_DISK_READS: dict[str, Handler] = {
    "/nodes/{node}/disks/lvm": disks_lvm,
    "/nodes/{node}/disks/lvmthin": disks_lvmthin,
    "/nodes/{node}/disks/zfs/{name}": zfs_detail,
    "/nodes/{node}/disks/list": disks_list,
    "/nodes/{node}/disks/smart": disks_smart,
    "/nodes/{node}/scan/lvm": scan_lvm,
    "/nodes/{node}/scan/lvmthin": scan_lvmthin,
    "/nodes/{node}/hardware/pci": pci_scan,
    "/nodes/{node}/hardware/pci/{pci-id-or-mapping}": pci_index,
    "/nodes/{node}/hardware/usb": usb_scan,
    "/nodes/{node}/hardware/pci/{pci-id-or-mapping}/mdev": pci_mdev,
}
