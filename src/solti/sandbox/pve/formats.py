"""PVE's named formats: the validators behind ``format => 'pve-vmid'`` and friends.

Each validator mirrors the Perl one it is named after (pve-common JSONSchema.pm, pve-storage,
qemu-server) and raises ``FormatError`` with the Perl ``die`` text, trailing newline included,
because that text ends up verbatim in the 400 ``errors`` map after ``invalid format - ``.
Property-string formats that PVE registers by name but the api-viewer dump does not inline
(``pve-qm-ipconfig``, ``pve-qm-boot``, ``pve-vm-cpu-conf``) are defined here as sub-schemas.
Formats we do not model are accepted and listed in ``PERMISSIVE_FORMATS``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

Validator = Callable[[str], None]


class FormatError(ValueError):
    """A named-format violation; ``str(err)`` is PVE's message (ends with a newline)."""


# PVE::Tools: octets without leading zeros, exactly as $IPV4RE.
_OCTET = r"(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])"
IPV4_RE = rf"(?:(?:{_OCTET}\.){{3}}{_OCTET})"
_IPV4 = re.compile(rf"^{IPV4_RE}\Z", re.ASCII)
_CIDR_V4 = re.compile(rf"^({IPV4_RE})/(\d+)\Z", re.ASCII)
_DNS_LABEL = r"([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
_DNS_NAME = re.compile(rf"^({_DNS_LABEL}\.)*{_DNS_LABEL}\Z", re.ASCII)
_CONFIGID = re.compile(r"^[a-z][a-z0-9_-]+\Z", re.ASCII | re.IGNORECASE)
_STORAGE_ID = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]\Z", re.ASCII | re.IGNORECASE)
_VOLUME_ID = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)\Z", re.ASCII | re.IGNORECASE | re.S)
_DRIVE_NAME = re.compile(
    r"^(?:ide[0-3]|sata[0-5]|virtio(?:[0-9]|1[0-5])|scsi(?:[0-9]|[12][0-9]|30)|efidisk0|tpmstate0)\Z"
)
STORAGE_CONTENT_TYPES = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import")


def split_list(text: str) -> list[str]:
    """PVE::Tools::split_list: NUL-separated if any NUL, else on ``,`` ``;`` and whitespace."""
    if "\0" in text:
        return text.split("\0")
    return re.sub(r"[,;]", " ", text).split()


def _fail(message: str) -> None:
    raise FormatError(message + "\n")


def _match(pattern: re.Pattern[str], message: str) -> Validator:
    def check(value: str) -> None:
        if not pattern.match(value):
            _fail(message.format(value=value))

    return check


def is_ipv4(value: str) -> bool:
    return bool(_IPV4.match(value))


def is_ipv6(value: str) -> bool:
    # $IPV6RE knows no zone index; ipaddress would accept "fe80::1%eth0".
    if not value.isascii() or "%" in value or value != value.strip():
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _cidr_ok(value: str, *, v6: bool) -> bool:
    address, sep, prefix = value.partition("/")
    if not sep or not prefix.isascii() or not prefix.isdigit():
        return False
    bits = int(prefix)
    if v6:
        return is_ipv6(address) and 7 < bits <= 128
    return is_ipv4(address) and 7 < bits <= 32


def _ipv4(value: str) -> None:
    if not is_ipv4(value):
        _fail("value does not look like a valid IPv4 address")


def _ipv6(value: str) -> None:
    if not is_ipv6(value):
        _fail("value does not look like a valid IPv6 address")


def _ip(value: str) -> None:
    if not (is_ipv4(value) or is_ipv6(value)):
        _fail("value does not look like a valid IP address")


def _cidr(value: str) -> None:
    if not (_cidr_ok(value, v6=False) or _cidr_ok(value, v6=True)):
        _fail("value does not look like a valid CIDR network")


def _ipv4_config(value: str) -> None:
    if value not in ("dhcp", "manual") and not _cidr_ok(value, v6=False):
        _fail("value does not look like a valid ipv4 network configuration")


def _ipv6_config(value: str) -> None:
    if value not in ("auto", "dhcp", "manual") and not _cidr_ok(value, v6=True):
        _fail("value does not look like a valid ipv6 network configuration")


def _address(value: str) -> None:
    if not (is_ipv4(value) or is_ipv6(value) or _DNS_NAME.match(value)):
        _fail(f"value does not look like a valid address: {value}")


def _disk_size(value: str) -> None:
    if not re.match(r"^\d+(\.\d+)?[KMGT]?\Z", value, re.ASCII):
        _fail(f"value does not look like a valid disk size: {value}")


def _volume_id(value: str) -> None:
    if not _VOLUME_ID.match(value):
        _fail(f"unable to parse volume ID '{value}'")


def _volume_id_or_absolute_path(value: str) -> None:
    if not value.startswith("/"):
        _volume_id(value)


def _volume_id_or_qm_path(value: str) -> None:
    if value not in ("none", "cdrom"):
        _volume_id_or_absolute_path(value)


def _storage_content(value: str) -> None:
    if value not in STORAGE_CONTENT_TYPES:
        _fail(f"invalid content type '{value}'")


def _startup_order(value: str) -> None:
    parts = [p for p in value.split(",") if not re.match(r"^\s*\Z", p)]
    pattern = re.compile(r"^(?:(?:order=)?\d+|up=\d+|down=\d+)\Z", re.ASCII)
    if not value or not all(pattern.match(p) for p in parts):
        _fail("unable to parse startup options")


def _bootdev(value: str) -> None:
    special = value.startswith(("efidisk", "tpmstate"))
    if _DRIVE_NAME.match(value) and not special:
        return
    family = re.match(r"^(net|usb|hostpci)(\d+)\Z", value, re.ASCII)
    limits = {"net": 31, "usb": 14, "hostpci": 15}
    if family and str(int(family[2])) == family[2] and int(family[2]) <= limits[family[1]]:
        return
    _fail(f"invalid boot device '{value}'")


SCALAR_FORMATS: dict[str, Validator] = {
    "urlencoded": _match(
        re.compile(r"^[-%a-zA-Z0-9_.!~*'()]*\Z", re.ASCII), "invalid urlencoded string: {value}"
    ),
    "pve-configid": _match(_CONFIGID, "invalid configuration ID '{value}'"),
    "pve-storage-id": _match(_STORAGE_ID, "storage ID '{value}' contains illegal characters"),
    "pve-bridge-id": _match(re.compile(r"^[-_.\w\d]+\Z", re.ASCII), "invalid bridge ID '{value}'"),
    "pve-vmid": _match(
        re.compile(r"^[1-9][0-9]{2,8}\Z", re.ASCII), "value does not look like a valid VM ID"
    ),
    "pve-node": _match(
        re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\Z", re.ASCII),
        "value does not look like a valid node name",
    ),
    "mac-addr": _match(
        re.compile(r"^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}\Z", re.ASCII | re.IGNORECASE),
        "value does not look like a valid unicast MAC address",
    ),
    "dns-name": _match(_DNS_NAME, "value does not look like a valid DNS name"),
    "pve-tag": _match(
        re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*\Z", re.ASCII | re.IGNORECASE),
        "invalid characters in tag",
    ),
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "ip": _ip,
    "CIDR": _cidr,
    "pve-ipv4-config": _ipv4_config,
    "pve-ipv6-config": _ipv6_config,
    "address": _address,
    "disk-size": _disk_size,
    "pve-volume-id": _volume_id,
    "pve-volume-id-or-absolute-path": _volume_id_or_absolute_path,
    "pve-volume-id-or-qm-path": _volume_id_or_qm_path,
    "pve-storage-content": _storage_content,
    "pve-startup-order": _startup_order,
    "pve-qm-bootdev": _bootdev,
    "string": lambda value: None,
}

# Named formats used by the vendored endpoints whose rules we do not model: any value passes.
# Listed here so a reader sees every gap in one place.
PERMISSIVE_FORMATS = frozenset(
    {
        "pve-poolid",
        "pve-realm",
        "pve-priv",
        "storage-pair",
        "pve-cpuset",
        "pve-hotplug-features",
        "pve-qm-bootdisk",
        "pve-qm-cicustom",
        "pve-qm-hostpci",
        "pve-qm-ide",
        "pve-qm-rng",
        "pve-qm-smbios1",
        "pve-qm-watchdog",
        "pve-qemu-sev-fmt",
        "pve-qemu-tdx-fmt",
    }
)

# Property-string formats PVE registers by name (the dump shows only the name and typetext).
IPCONFIG_FORMAT: dict[str, Any] = {
    # qemu-server src/PVE/QemuServer/Network.pm $ipconfig_fmt
    "ip": {"type": "string", "format": "pve-ipv4-config", "optional": 1, "default": "dhcp"},
    "gw": {"type": "string", "format": "ipv4", "optional": 1, "requires": "ip"},
    "ip6": {"type": "string", "format": "pve-ipv6-config", "optional": 1, "default": "dhcp"},
    "gw6": {"type": "string", "format": "ipv6", "optional": 1, "requires": "ip6"},
}
BOOT_FORMAT: dict[str, Any] = {
    # qemu-server $boot_fmt (typetext "[[legacy=]<[acdn]{1,4}>] [,order=<device[;device...]>]")
    "legacy": {"type": "string", "optional": 1, "default_key": 1, "pattern": "[acdn]{1,4}"},
    "order": {"type": "string", "optional": 1, "format": "pve-qm-bootdev-list"},
}
CPU_FORMAT: dict[str, Any] = {
    # qemu-server CPUConfig.pm $cpu_fmt; the model list check (built-in or custom) is omitted.
    "cputype": {"type": "string", "optional": 1, "default_key": 1, "default": "kvm64"},
    "flags": {
        "type": "string",
        "optional": 1,
        "pattern": r"(?:[+-][a-zA-Z0-9\-_\.]+;)*[+-][a-zA-Z0-9\-_\.]+",
    },
    "hidden": {"type": "boolean", "optional": 1, "default": 0},
    "hv-vendor-id": {"type": "string", "optional": 1, "pattern": r"[a-zA-Z0-9]{1,12}"},
    "phys-bits": {"type": "string", "optional": 1, "pattern": r"(?:[89]|[1-5][0-9]|6[0-4]|host)"},
    "guest-phys-bits": {"type": "integer", "optional": 1, "minimum": 32, "maximum": 64},
    "reported-model": {"type": "string", "optional": 1},
}
PROPERTY_FORMATS: dict[str, dict[str, Any]] = {
    "pve-qm-ipconfig": IPCONFIG_FORMAT,
    "pve-qm-boot": BOOT_FORMAT,
    "pve-vm-cpu-conf": CPU_FORMAT,
}


def lookup(name: str) -> Validator | dict[str, Any] | None:
    """The registered format: a validator, a property-string sub-schema, or None if unknown."""
    if name in SCALAR_FORMATS:
        return SCALAR_FORMATS[name]
    if name in PROPERTY_FORMATS:
        return PROPERTY_FORMATS[name]
    if name in PERMISSIVE_FORMATS:
        return SCALAR_FORMATS["string"]
    return None


def split_format_name(name: str) -> tuple[str, str]:
    """``pve-tag-list`` -> (``pve-tag``, ``list``) as JSONSchema.pm ``check_format`` does."""
    match = re.match(r"^(.*?)(?:-(list|opt))?\Z", name, re.S)
    assert match is not None
    return match[1], match[2] or "none"
