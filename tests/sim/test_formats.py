"""Named formats and property strings behave as pve-common's JSONSchema.pm (pure, no server)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solti.sandbox.pve.formats import (
    PERMISSIVE_FORMATS,
    PROPERTY_FORMATS,
    SCALAR_FORMATS,
    FormatError,
    split_list,
)
from solti.sandbox.pve.propstring import (
    check_format,
    format_size,
    parse_property_string,
    print_property_string,
)
from solti.sandbox.pve.schema import drive_format, get_schema

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd+x/y= alice@example.org"


def format_error(fmt: str | dict, value: str, path: str = "") -> str:
    with pytest.raises(FormatError) as info:
        check_format(fmt, value, path)
    return str(info.value)


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        ("pve-vmid", "100"),
        ("pve-vmid", "999999999"),
        ("pve-node", "pve"),
        ("pve-node", "node-2"),
        ("pve-storage-id", "local-lvm"),
        ("pve-configid", "scsi0"),
        ("pve-configid-list", "ide2,sshkeys; net1"),
        ("dns-name", "web-01.example.org"),
        ("pve-tag-list", "ubuntu;template,v1.2 x+y"),
        ("urlencoded", quote(SSH_KEY, safe="")),
        ("pve-volume-id", "local:import/noble.qcow2"),
        ("pve-volume-id-or-qm-path", "local-lvm:32"),
        ("pve-volume-id-or-qm-path", "local-lvm:cloudinit"),
        ("pve-volume-id-or-qm-path", "none"),
        ("pve-volume-id-or-qm-path", "cdrom"),
        ("pve-volume-id-or-qm-path", "/dev/sdb"),
        ("pve-volume-id-or-absolute-path", "/var/lib/vz/x.qcow2"),
        ("address-list", "1.1.1.1 2001:db8::1 dns.example.org"),
        ("disk-size", "32G"),
        ("disk-size", "3584M"),
        ("disk-size", "1.5T"),
        ("disk-size", "1024"),
        ("mac-addr", "BC:24:11:AA:bb:0c"),
        ("pve-bridge-id", "vmbr0"),
        ("pve-storage-content", "import"),
        ("pve-storage-content-list", "images,iso import"),
        ("ipv4", "192.168.1.1"),
        ("ipv6", "fe80::1"),
        ("CIDR", "10.0.0.0/8"),
        ("CIDR", "2001:db8::/64"),
        ("pve-startup-order", "order=1,up=30"),
        ("pve-qm-boot", "order=scsi0;ide2;net0"),
        ("pve-qm-ipconfig", "ip=10.0.0.5/24,gw=10.0.0.1"),
        ("pve-qm-ipconfig", "ip=dhcp,ip6=auto"),
        ("pve-vm-cpu-conf", "host,flags=+aes;-pcid"),
        ("pve-poolid", "anything goes"),  # permissive
    ],
)
def test_valid_values_pass(fmt: str, value: str) -> None:
    check_format(fmt, value, "x")


@pytest.mark.parametrize(
    ("fmt", "value", "message"),
    [
        ("pve-vmid", "99", "value does not look like a valid VM ID\n"),
        ("pve-vmid", "0100", "value does not look like a valid VM ID\n"),
        ("pve-node", "-pve", "value does not look like a valid node name\n"),
        ("pve-storage-id", "l", "storage ID 'l' contains illegal characters\n"),
        ("pve-storage-id", "Local_", "storage ID 'Local_' contains illegal characters\n"),
        ("pve-configid", "0abc", "invalid configuration ID '0abc'\n"),
        ("pve-configid-list", "ide2,9x", "invalid configuration ID '9x'\n"),
        ("dns-name", "my_vm", "value does not look like a valid DNS name\n"),
        ("dns-name", "web 01", "value does not look like a valid DNS name\n"),
        ("pve-tag-list", "ok,bad!tag", "invalid characters in tag\n"),
        ("pve-tag-list", "-lead", "invalid characters in tag\n"),
        ("urlencoded", SSH_KEY, f"invalid urlencoded string: {SSH_KEY}\n"),
        ("pve-volume-id", "noble.qcow2", "unable to parse volume ID 'noble.qcow2'\n"),
        ("pve-volume-id-or-qm-path", "x:1", "unable to parse volume ID 'x:1'\n"),
        (
            "address-list",
            "1.1.1.1,bad_name",
            "value does not look like a valid address: bad_name\n",
        ),
        ("disk-size", "32GB", "value does not look like a valid disk size: 32GB\n"),
        ("disk-size", "-1G", "value does not look like a valid disk size: -1G\n"),
        ("mac-addr", "01:00:5E:00:00:01", "value does not look like a valid unicast MAC address\n"),
        ("pve-bridge-id", "vmbr 0", "invalid bridge ID 'vmbr 0'\n"),
        ("pve-storage-content", "images2", "invalid content type 'images2'\n"),
        ("ipv4", "10.0.0.256", "value does not look like a valid IPv4 address\n"),
        ("ipv4", "10.0.0.01", "value does not look like a valid IPv4 address\n"),
        ("ipv6", "fe80::1%eth0", "value does not look like a valid IPv6 address\n"),
        ("CIDR", "10.0.0.0/7", "value does not look like a valid CIDR network\n"),
        ("pve-startup-order", "first", "unable to parse startup options\n"),
        ("pve-qm-bootdev-list", "scsi0;efidisk0", "invalid boot device 'efidisk0'\n"),
    ],
)
def test_invalid_values_fail_with_pve_text(fmt: str, value: str, message: str) -> None:
    assert format_error(fmt, value) == message


def test_sshkeys_quote_plus_is_rejected_but_quote_safe_empty_passes() -> None:
    check_format("urlencoded", quote(SSH_KEY + "\n" + SSH_KEY, safe=""))
    plus_encoded = SSH_KEY.replace(" ", "+")
    assert format_error("urlencoded", plus_encoded).startswith("invalid urlencoded string: ")


def test_split_list_uses_commas_semicolons_whitespace_or_nul() -> None:
    assert split_list("a,b;c  d\te") == ["a", "b", "c", "d", "e"]
    assert split_list("a b\0c") == ["a b", "c"]
    assert split_list("") == []


def test_every_named_format_of_the_vendored_schema_is_known() -> None:
    """Unknown formats would silently pass; every one in use must be modelled or listed."""
    known = set(SCALAR_FORMATS) | set(PROPERTY_FORMATS) | PERMISSIVE_FORMATS
    used: set[str] = set()

    def visit(schema: dict) -> None:
        fmt = schema.get("format")
        if isinstance(fmt, str):
            used.add(fmt.removesuffix("-list").removesuffix("-opt"))
        elif isinstance(fmt, dict):
            for sub in fmt.values():
                visit(sub)

    schema = get_schema()
    for template, methods in schema.endpoints.items():
        for method in methods:
            path = template.replace("{upid}", "UPID:x").replace("{", "").replace("}", "")
            for prop in schema.resolve(method, path).properties.values():
                visit(prop)
    assert used - known == set()


# --- property strings -------------------------------------------------------------------------


def test_drive_string_with_default_key_and_import_from() -> None:
    parsed = parse_property_string(
        drive_format("scsi0"), "local-lvm:0,import-from=local:import/x.qcow2,discard=on,ssd=yes"
    )
    assert parsed == {
        "file": "local-lvm:0",
        "import-from": "local:import/x.qcow2",
        "discard": "on",
        "ssd": 1,
    }


def test_alias_maps_volume_to_file() -> None:
    assert parse_property_string(drive_format("scsi0"), "volume=local-lvm:1") == {
        "file": "local-lvm:1"
    }


def test_net_key_alias_sets_model_and_mac() -> None:
    parsed = parse_property_string(drive_format("net0"), "virtio=BC:24:11:00:00:01,bridge=vmbr0")
    assert parsed == {"model": "virtio", "macaddr": "BC:24:11:00:00:01", "bridge": "vmbr0"}


@pytest.mark.parametrize("word", ["1", "on", "YES", "true", "0", "off", "No", "FALSE"])
def test_booleans_inside_property_strings(word: str) -> None:
    expected = 1 if word.lower() in ("1", "on", "yes", "true") else 0
    parsed = parse_property_string(
        drive_format("efidisk0"), f"local-lvm:1,pre-enrolled-keys={word}"
    )
    assert parsed["pre-enrolled-keys"] == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scsi0", "local-lvm:1,foo=bar", "invalid key in comma-separated list property: foo\n"),
        (
            "scsi0",
            "local-lvm:1,file=local:2",
            "duplicate key in comma-separated list property: file\n",
        ),
        ("scsi0", "local-lvm:1,local:2", "duplicate key in comma-separated list property: file\n"),
        (
            "ipconfig0",
            "10.0.0.5/24",
            "value without key, but schema does not define a default key\n",
        ),
        ("scsi0", "local-lvm:1,cache=", "missing key in comma-separated list property\n"),
        ("net0", "model=e1000,virtio=BC:24:11:00:00:01", "key alias 'model' is already defined\n"),
        (
            "net0",
            "virtio=BC:24:11:00:00:01,model=e1000",
            "duplicate key in comma-separated list property: model\n",
        ),
    ],
)
def test_structural_property_string_errors(key: str, value: str, message: str) -> None:
    assert format_error(drive_format(key), value, key) == message


_ENUM_CACHE = "'none, writethrough, writeback, unsafe, directsync'"
CHECKED_ERRORS = [
    (
        "ipconfig0",
        "ip=10.0.0.5/24,gw=10.0.0.256",
        "ipconfig0.gw: invalid format - value does not look like a valid IPv4 address\n",
    ),
    (
        "ipconfig0",
        "gw=10.0.0.1",
        "ipconfig0.ip: missing property - 'ipconfig0.gw' requires this property",
    ),
    (
        "ipconfig0",
        "ip=10.0.0.5/33",
        "ipconfig0.ip: invalid format - "
        "value does not look like a valid ipv4 network configuration\n",
    ),
    ("net0", "bridge=vmbr0", "net0.model: property is missing and it is not optional"),
    ("net0", "virtio,tag=5000", "net0.tag: value must have a maximum value of 4094"),
    ("scsi0", "local-lvm:1,ssd=maybe", "scsi0.ssd: type check ('boolean') failed - got 'maybe'"),
    (
        "scsi0",
        "local-lvm:1,cache=fast",
        f"scsi0.cache: value 'fast' does not have a value in the enumeration {_ENUM_CACHE}",
    ),
    (
        "scsi0",
        "local-lvm:1,size=10GB",
        "scsi0.size: invalid format - value does not look like a valid disk size: 10GB\n",
    ),
    ("scsi0", "local-lvm:1,iops=fast", "scsi0.iops: type check ('integer') failed - got 'fast'"),
    (
        "efidisk0",
        "local-lvm:1,efitype=8m",
        "efidisk0.efitype: value '8m' does not have a value in the enumeration '2m, 4m'",
    ),
    ("memory", "8", "memory.current: value must have a minimum value of 16"),
    (
        "boot",
        "order=scsi0;efidisk0",
        "boot.order: invalid format - invalid boot device 'efidisk0'\n",
    ),
]


@pytest.mark.parametrize(("key", "value", "line"), CHECKED_ERRORS)
def test_checked_property_string_errors_have_format_error_shape(
    key: str, value: str, line: str
) -> None:
    message = format_error(drive_format(key), value, key)
    assert message == f"format error\n{line}\n"


def test_ipconfig_gateway_needs_ip_and_dhcp_defaults() -> None:
    assert parse_property_string(drive_format("ipconfig0"), "ip=dhcp") == {"ip": "dhcp"}
    parsed = parse_property_string(drive_format("ipconfig0"), "ip6=2001:db8::5/64,gw6=2001:db8::1")
    assert parsed == {"ip6": "2001:db8::5/64", "gw6": "2001:db8::1"}


def test_print_property_string_matches_pve_config_lines() -> None:
    net = parse_property_string(
        drive_format("net0"), "bridge=vmbr0,firewall=1,virtio=BC:24:11:00:00:01"
    )
    assert print_property_string(net, drive_format("net0")) == (
        "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"
    )
    drive = {"file": "local-lvm:vm-9000-disk-0", "size": 3584 * 1024**2, "ssd": 1, "discard": "on"}
    assert print_property_string(drive, drive_format("scsi0")) == (
        "local-lvm:vm-9000-disk-0,discard=on,size=3584M,ssd=1"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (4 * 1024**2, "4M"),
        (528 * 1024, "528K"),
        (32 * 1024**3, "32G"),
        (1000, "1000"),
        (2 * 1024**4, "2T"),
    ],
)
def test_format_size_uses_largest_exact_unit(size: int, text: str) -> None:
    assert format_size(size) == text


_volumes = st.from_regex(r"\A[a-z][a-z0-9]{1,8}:vm-[1-9][0-9]{2,4}-disk-[0-9]\Z")


@given(
    file=_volumes,
    ssd=st.sampled_from([0, 1]),
    cache=st.sampled_from(["none", "writeback", "unsafe"]),
    size_mib=st.integers(min_value=1, max_value=10**6),
)
def test_drive_strings_round_trip(file: str, ssd: int, cache: str, size_mib: int) -> None:
    fmt = drive_format("scsi0")
    values = {"file": file, "ssd": ssd, "cache": cache, "size": format_size(size_mib * 1024**2)}
    text = print_property_string(values, fmt)
    assert parse_property_string(fmt, text) == values
    assert print_property_string(parse_property_string(fmt, text), fmt) == text


@given(
    mac=st.from_regex(r"\A[0-9A-F][02468ACE](:[0-9A-F]{2}){5}\Z"),
    model=st.sampled_from(["virtio", "e1000", "vmxnet3"]),
    tag=st.one_of(st.none(), st.integers(min_value=1, max_value=4094)),
)
def test_net_strings_round_trip(mac: str, model: str, tag: int | None) -> None:
    fmt = drive_format("net0")
    values: dict = {"model": model, "macaddr": mac, "bridge": "vmbr0"}
    if tag is not None:
        values["tag"] = str(tag)
    text = print_property_string(values, fmt)
    assert text.startswith(f"{model}={mac},")
    assert parse_property_string(fmt, text) == values
