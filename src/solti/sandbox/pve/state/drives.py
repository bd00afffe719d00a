"""Pure helpers for drive strings, sizes and disk images as qemu-server prints them."""

from __future__ import annotations

import re
import struct

DRIVE_PREFIXES = ("ide", "sata", "scsi", "virtio")
SPECIAL_DRIVES = ("efidisk0", "tpmstate0")
NEW_DISK_RE = re.compile(r"^(?:([^/:\s]+):)?(\d+(?:\.\d+)?)$")
CLOUDINIT_RE = re.compile(r"^([^/:\s]+):cloudinit$")
VOLID_RE = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$", re.I)
SIZE_RE = re.compile(r"^(\+)?(\d+(?:\.\d+)?)([KMGT])?(?:iB)?$")
UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
QCOW2_MAGIC = b"QFI\xfb"
NET_MODELS = [
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
]


def is_drive_key(key: str) -> bool:
    """True for disk/cdrom slots (``scsi0``, ``ide2``, ``efidisk0``...)."""
    if key in SPECIAL_DRIVES:
        return True
    match = re.fullmatch(r"([a-z]+)(\d+)", key)
    return bool(match) and match.group(1) in DRIVE_PREFIXES


def parse_size(text: str) -> int:
    """``32G`` / ``3584M`` / ``1.5G`` / ``1024`` (bytes) -> bytes."""
    match = SIZE_RE.match(text.strip())
    if not match:
        raise ValueError(f"unable to parse size '{text}'")
    value = float(match.group(2))
    return int(value * UNITS.get(match.group(3) or "", 1))


def split_property_string(value: str, default_key: str | None) -> dict[str, str]:
    """Split ``a,b=c`` into a dict; a bare first element belongs to ``default_key``.

    The schema validator has already rejected malformed strings, so this only splits.
    """
    result: dict[str, str] = {}
    for part in value.split(","):
        if not part:
            continue
        if "=" in part:
            key, _, val = part.partition("=")
            result["file" if key == "volume" else key] = val
        elif default_key is not None:
            result[default_key] = part
    return result


def print_property_string(values: dict[str, str], default_key: str | None) -> str:
    """PVE's ``print_property_string``: the default key bare, the rest sorted."""
    parts = []
    if default_key and default_key in values:
        parts.append(str(values[default_key]))
    parts += [f"{k}={v}" for k, v in sorted(values.items()) if k != default_key]
    return ",".join(parts)


def parse_drive(value: str) -> dict[str, str]:
    return split_property_string(value, "file")


def print_drive(drive: dict[str, str]) -> str:
    """A drive as qemu-server writes it to the config (``import-from`` never stored)."""
    kept = {k: v for k, v in drive.items() if k != "import-from"}
    return print_property_string(kept, "file")


def parse_net(value: str) -> dict[str, str]:
    """``virtio=MAC,bridge=vmbr0`` or ``model=virtio`` -> dict with model and macaddr."""
    result: dict[str, str] = {}
    for index, part in enumerate(p for p in value.split(",") if p):
        key, has_value, val = part.partition("=")
        if key in NET_MODELS:
            result["model"] = key
            if has_value:
                result["macaddr"] = val.upper()
        elif not has_value and index == 0:
            result["model"] = key
        else:
            result[key] = val.upper() if key == "macaddr" else val
    return result


def print_net(net: dict[str, str]) -> str:
    """``virtio=BC:24:11:..,bridge=vmbr0,...`` as qemu-server prints network devices."""
    head = net.get("model", "virtio")
    if net.get("macaddr"):
        head += f"={net['macaddr']}"
    rest = [f"{k}={v}" for k, v in sorted(net.items()) if k not in ("model", "macaddr")]
    return ",".join([head, *rest])


def qcow2_virtual_size(data: bytes) -> int | None:
    """The virtual disk size recorded in a qcow2 header, or None if not qcow2."""
    if len(data) < 32 or data[:4] != QCOW2_MAGIC:
        return None
    return int(struct.unpack(">Q", data[24:32])[0])


def split_volid(volid: str) -> tuple[str, str] | None:
    match = VOLID_RE.match(volid)
    return (match.group(1), match.group(2)) if match else None
