"""The qemu config endpoint's property formats, as PVE 9.1 checks them (pure, no server).

``/nodes/{node}/qemu/{vmid}/config`` carries the property strings the simulator later parses
into state (sshkeys, ipconfig, tags, drives, the indexed families), so their rules are tested
together here.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.schema import Schema
from tests.sim.schema_support import NOT_DEFINED, SSH_KEY, VM, errors_of


def test_sshkeys_must_be_percent_encoded_without_plus(schema: Schema) -> None:
    path = f"{VM}/config"
    assert errors_of(schema, "POST", path, {"sshkeys": SSH_KEY}) == {
        "sshkeys": f"invalid format - invalid urlencoded string: {SSH_KEY}\n"
    }
    plus = SSH_KEY.replace(" ", "+")
    assert errors_of(schema, "POST", path, {"sshkeys": plus}) == {
        "sshkeys": f"invalid format - invalid urlencoded string: {plus}\n"
    }
    encoded = quote(SSH_KEY + "\n" + SSH_KEY, safe="")
    assert schema.validate(schema.resolve("PUT", path), {"sshkeys": encoded})["sshkeys"] == encoded


def test_ipconfig_gateway_without_ip_and_bad_gateway(schema: Schema) -> None:
    path = f"{VM}/config"
    assert errors_of(schema, "POST", path, {"ipconfig0": "gw=10.0.0.1"}) == {
        "ipconfig0": "invalid format - format error\n"
        "ipconfig0.ip: missing property - 'ipconfig0.gw' requires this property\n"
    }
    # The exact wire body seen from a real PVE (The-Network-Crew/Proxmox-VE-for-WHMCS#92).
    assert errors_of(schema, "POST", path, {"ipconfig0": "ip=10.0.0.5/24,gw=10.0.0.300"}) == {
        "ipconfig0": "invalid format - format error\n"
        "ipconfig0.gw: invalid format - value does not look like a valid IPv4 address\n\n"
    }


@pytest.mark.parametrize(
    ("tags", "ok"),
    [("Ubuntu,template;v1.0 a+b", True), ("bad!", False), ("white space;ok", True), ("-x", False)],
)
def test_tag_characters(schema: Schema, tags: str, ok: bool) -> None:
    route = schema.resolve("PUT", f"{VM}/config")
    if ok:
        assert schema.validate(route, {"tags": tags})["tags"] == tags
    else:
        assert errors_of(schema, "PUT", f"{VM}/config", {"tags": tags}) == {
            "tags": "invalid format - invalid characters in tag\n"
        }


@pytest.mark.parametrize(
    ("drive", "error"),
    [
        ("local-lvm:1,size=32G", None),
        ("local-lvm:1,size=1.5T", None),
        ("local-lvm:1,size=32GB", "value does not look like a valid disk size: 32GB\n"),
        ("local-lvm:1,size=G", "value does not look like a valid disk size: G\n"),
    ],
)
def test_disk_size_inside_drive_strings(schema: Schema, drive: str, error: str | None) -> None:
    path = f"{VM}/config"
    if error is None:
        assert schema.validate(schema.resolve("POST", path), {"scsi1": drive})["scsi1"] == drive
    else:
        assert errors_of(schema, "POST", path, {"scsi1": drive}) == {
            "scsi1": f"invalid format - format error\nscsi1.size: invalid format - {error}\n"
        }


def test_body_param_conflicting_with_path_param(schema: Schema) -> None:
    route = schema.resolve("POST", f"{VM}/config")
    assert schema.validate(route, {"vmid": "500", "cores": "2"})["vmid"] == 500
    with pytest.raises(PveError) as info:
        schema.validate(route, {"vmid": "501", "cores": "x"})
    assert info.value.status == 400
    assert info.value.errors == {
        "vmid": "duplicate parameter (already defined in URI) with conflicting values!"
    }


@pytest.mark.parametrize(
    ("key", "accepted"),
    [
        ("scsi30", True),
        ("scsi31", False),
        ("ide3", True),
        ("ide4", False),
        ("sata5", True),
        ("sata6", False),
        ("virtio15", True),
        ("virtio16", False),
        ("net31", True),
        ("net32", False),
        ("ipconfig31", True),
        ("unused255", True),
        ("unused256", False),
        ("scsi01", False),
        ("efidisk1", False),
    ],
)
def test_collapsed_families_accept_their_index_range(
    schema: Schema, key: str, accepted: bool
) -> None:
    value = {"net": "virtio", "ipc": "ip=dhcp", "unu": "local-lvm:vm-500-disk-1"}.get(
        key[:3], "none"
    )
    route = schema.resolve("PUT", f"{VM}/config")
    if accepted:
        assert schema.validate(route, {key: value})[key] == value
    else:
        assert errors_of(schema, "PUT", f"{VM}/config", {key: value}) == {key: NOT_DEFINED}


def test_config_format_lookup_for_state_code(schema: Schema) -> None:
    assert schema.config_format("scsi5") is schema.config_format("scsi0")
    assert schema.config_format("net3")["model"]["default_key"] == 1
    assert set(schema.config_format("ipconfig7")) == {"ip", "gw", "ip6", "gw6"}
    assert "current" in schema.config_format("memory")
    assert schema.config_format("serial0") is None
    assert schema.config_format("scsi31") is None
    assert schema.config_schema("cores")["type"] == "integer"
