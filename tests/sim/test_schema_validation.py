"""Every served endpoint is validated as PVE 9.1 does it: samples, unknown, missing, types.

Pure, no server. The qemu config formats are in ``test_schema_qemu_config.py``, routing and
path parameters in ``test_schema_routing.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from solti.sandbox.pve.schema import DATA_FILE, Schema
from tests.sim.schema_support import (
    BAD_VMID,
    NOT_DEFINED,
    SSH_KEY,
    UPID,
    VM,
    errors_of,
    type_error,
)

REPO = Path(__file__).resolve().parents[2]
MISSING = "property is missing and it is not optional"
DL = "/nodes/pve/storage/local/download-url"
ISO_DOWNLOAD = {"url": "https://x/y.iso", "content": "iso", "filename": "y.iso"}
DISKS = (
    [f"ide{i}" for i in range(4)]
    + [f"scsi{i}" for i in range(31)]
    + [f"virtio{i}" for i in range(16)]
    + [f"sata{i}" for i in range(6)]
    + ["efidisk0", "tpmstate0"]
)


def enum_error(value: str, allowed: list[str]) -> str:
    return f"value '{value}' does not have a value in the enumeration '{', '.join(allowed)}'"


def _vendor_script() -> Any:
    spec = importlib.util.spec_from_file_location("vendor", REPO / "scripts/vendor_pve_schema.py")
    assert spec and spec.loader
    vendor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor)
    return vendor


def test_vendored_subset_equals_what_the_script_generates() -> None:
    vendor = _vendor_script()
    # The source dump lives in the repository, beside the subset it produces.
    assert vendor.DEFAULT_APIDATA.resolve().is_relative_to(REPO)
    assert vendor.DEFAULT_APIDATA.is_file(), f"{vendor.DEFAULT_APIDATA} is the schema source"
    assert DATA_FILE.read_text(encoding="utf-8") == vendor.generate(vendor.DEFAULT_APIDATA)


def test_vendored_dump_is_the_one_source_md_describes() -> None:
    """SOURCE.md names the SHA-256 of the decompressed dump; a swapped file is caught."""
    vendor = _vendor_script()
    digest = hashlib.sha256(gzip.decompress(vendor.DEFAULT_APIDATA.read_bytes())).hexdigest()
    assert digest in (DATA_FILE.parent / "SOURCE.md").read_text(encoding="utf-8")


CREATE_PARAMS = {
    "vmid": "9000",
    "name": "ubuntu-noble-template",
    "memory": "2048",
    "cores": "2",
    "cpu": "host",
    "bios": "ovmf",
    "machine": "q35",
    "scsihw": "virtio-scsi-single",
    "efidisk0": "local-lvm:1,efitype=4m,pre-enrolled-keys=1",
    "scsi0": "local-lvm:0,import-from=local:import/noble.qcow2,discard=on,ssd=1",
    "ide2": "local-lvm:cloudinit",
    "net0": "virtio,bridge=vmbr0",
    "ipconfig0": "ip=dhcp",
    "serial0": "socket",
    "vga": "serial0",
    "agent": "enabled=1",
    "boot": "order=scsi0",
    "ostype": "l26",
    "tags": "ubuntu;template",
    "sshkeys": quote(SSH_KEY, safe=""),
    "cpulimit": "1.5",
}
DOWNLOAD_PARAMS = {
    "url": "http://127.0.0.1:8080/noble.img",
    "content": "import",
    "filename": "noble.qcow2",
    "checksum": "ab" * 32,
    "checksum-algorithm": "sha256",
    "verify-certificates": "0",
}
PVE = {"node": "pve"}
PVE_VM = {"node": "pve", "vmid": 500}
TASK = f"/nodes/pve/tasks/{UPID}"

# (method, concrete path, params as proxmoxer sends them, what coercion changes or adds)
VALID: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("GET", "/version", {}, {}),
    ("GET", "/nodes", {}, {}),
    ("GET", "/cluster/resources", {"type": "vm"}, {}),
    ("GET", "/cluster/nextid", {"vmid": "501"}, {"vmid": 501}),
    ("GET", "/cluster/options", {}, {}),
    ("GET", "/access/permissions", {"path": "/vms/500"}, {}),
    ("POST", "/access/ticket", {"username": "root@pam", "password": "pw"}, {}),
    ("GET", "/nodes/pve/network", {"type": "any_bridge"}, PVE),
    (
        "GET",
        "/nodes/pve/storage",
        {"content": "images,import", "enabled": "1"},
        PVE | {"enabled": 1},
    ),
    (
        "GET",
        "/nodes/pve/storage/local/content",
        {"content": "import", "vmid": "9000"},
        PVE | {"storage": "local", "vmid": 9000},
    ),
    ("POST", DL, DOWNLOAD_PARAMS, PVE | {"storage": "local", "verify-certificates": 0}),
    ("GET", "/nodes/pve/qemu", {"full": "1"}, PVE | {"full": 1}),
    ("POST", "/nodes/pve/qemu", CREATE_PARAMS, PVE | {"vmid": 9000, "cores": 2, "cpulimit": 1.5}),
    ("GET", VM, {}, PVE_VM),
    (
        "DELETE",
        VM,
        {"purge": "1", "destroy-unreferenced-disks": "0"},
        PVE_VM | {"purge": 1, "destroy-unreferenced-disks": 0},
    ),
    ("GET", f"{VM}/config", {"current": "0"}, PVE_VM | {"current": 0}),
    (
        "POST",
        f"{VM}/config",
        {"ipconfig0": "ip=10.0.0.5/24,gw=10.0.0.1", "delete": "ide3,tags"},
        PVE_VM,
    ),
    (
        "PUT",
        f"{VM}/config",
        {"description": "by solti", "digest": "0" * 40, "template": "1"},
        PVE_VM | {"template": 1},
    ),
    ("PUT", f"{VM}/resize", {"disk": "scsi0", "size": "+10.5G"}, PVE_VM),
    (
        "POST",
        f"{VM}/clone",
        {"newid": "501", "name": "web-1", "full": "0"},
        PVE_VM | {"newid": 501, "full": 0},
    ),
    ("POST", f"{VM}/template", {}, PVE_VM),
    ("GET", f"{VM}/status/current", {}, PVE_VM),
    ("POST", f"{VM}/status/start", {"timeout": "30"}, PVE_VM | {"timeout": 30}),
    ("POST", f"{VM}/status/stop", {"overrule-shutdown": "1"}, PVE_VM | {"overrule-shutdown": 1}),
    ("POST", f"{VM}/status/shutdown", {"forceStop": "1"}, PVE_VM | {"forceStop": 1}),
    ("GET", f"{VM}/agent/network-get-interfaces", {}, PVE_VM),
    ("GET", f"{TASK}/status", {}, PVE | {"upid": UPID}),
    (
        "GET",
        f"{TASK}/log",
        {"start": "0", "limit": "50"},
        PVE | {"upid": UPID, "start": 0, "limit": 50},
    ),
    ("GET", f"{VM}/snapshot", {}, PVE_VM),
    ("POST", f"{VM}/snapshot", {"snapname": "s1", "vmstate": "1"}, PVE_VM | {"vmstate": 1}),
    ("GET", f"{VM}/snapshot/s1", {}, PVE_VM | {"snapname": "s1"}),
    ("DELETE", f"{VM}/snapshot/s1", {}, PVE_VM | {"snapname": "s1"}),
    ("GET", f"{VM}/snapshot/s1/config", {}, PVE_VM | {"snapname": "s1"}),
    ("PUT", f"{VM}/snapshot/s1/config", {"description": "d"}, PVE_VM | {"snapname": "s1"}),
    ("POST", f"{VM}/snapshot/s1/rollback", {"start": "1"}, PVE_VM | {"snapname": "s1", "start": 1}),
]


@pytest.mark.parametrize(("method", "path", "params", "changes"), VALID)
def test_valid_request_passes_and_is_coerced(
    schema: Schema, method: str, path: str, params: dict, changes: dict
) -> None:
    assert schema.validate(schema.resolve(method, path), params) == {**params, **changes}


def test_every_served_endpoint_has_a_valid_sample(schema: Schema) -> None:
    sampled = {(m, schema.resolve(m, p).template) for m, p, _, _ in VALID}
    served = {(m, t) for t, methods in schema.endpoints.items() for m in methods}
    assert sampled == served


@pytest.mark.parametrize(("method", "path", "params"), [(m, p, q) for m, p, q, _ in VALID])
def test_unknown_parameter_is_named(schema: Schema, method: str, path: str, params: dict) -> None:
    assert errors_of(schema, method, path, {**params, "bogus": "1"}) == {"bogus": NOT_DEFINED}


@pytest.mark.parametrize(
    ("method", "path", "params", "expected"),
    [
        ("POST", "/access/ticket", {"username": "root@pam"}, {"password": MISSING}),
        ("POST", f"{VM}/clone", {"name": "x"}, {"newid": MISSING}),
        ("PUT", f"{VM}/resize", {"disk": "scsi0"}, {"size": MISSING}),
        ("POST", DL, {}, dict.fromkeys(["url", "content", "filename"], MISSING)),
        ("POST", "/nodes/pve/qemu", {"cores": "2"}, {"vmid": MISSING}),
    ],
)
def test_missing_required(
    schema: Schema, method: str, path: str, params: dict, expected: dict
) -> None:
    assert errors_of(schema, method, path, params) == expected


@pytest.mark.parametrize(
    ("method", "path", "params", "key", "value", "type_"),
    [
        ("GET", "/cluster/nextid", {}, "vmid", "abc", "integer"),
        ("POST", "/nodes/pve/qemu", {"vmid": "500"}, "cores", "two", "integer"),
        ("POST", "/nodes/pve/qemu", {"vmid": "500"}, "cpulimit", "1,5", "number"),
        ("POST", f"{VM}/status/start", {}, "timeout", "1.5", "integer"),
    ],
)
def test_wrong_types(
    schema: Schema, method: str, path: str, params: dict, key: str, value: str, type_: str
) -> None:
    errors = errors_of(schema, method, path, {**params, key: value})
    assert errors == {key: type_error(type_, value)}


# Every boolean parameter of the served endpoints takes exactly 0/1 in a form body.
BOOLEAN_PARAMS = [
    ("GET", "/nodes/pve/qemu", {}, "full"),
    ("POST", f"{VM}/clone", {"newid": "501"}, "full"),
    ("DELETE", VM, {}, "purge"),
    ("POST", DL, ISO_DOWNLOAD, "verify-certificates"),
    ("GET", "/nodes/pve/storage", {}, "enabled"),
    ("GET", f"{VM}/config", {}, "current"),
    ("PUT", f"{VM}/config", {}, "protection"),
    ("POST", f"{VM}/config", {}, "onboot"),
    ("POST", f"{VM}/status/start", {}, "skiplock"),
    ("POST", f"{VM}/status/stop", {}, "keepActive"),
    ("POST", f"{VM}/status/shutdown", {}, "forceStop"),
    ("POST", "/access/ticket", {"username": "root@pam", "password": "x"}, "new-format"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "params", "key"), BOOLEAN_PARAMS)
@pytest.mark.parametrize("word", ["True", "False", "true", "yes", "on", "2"])
def test_boolean_words_are_rejected(
    schema: Schema, method: str, path: str, params: dict, key: str, word: str
) -> None:
    errors = errors_of(schema, method, path, {**params, key: word})
    assert errors == {key: type_error("boolean", word)}


@pytest.mark.parametrize(("method", "path", "params", "key"), BOOLEAN_PARAMS)
def test_python_true_in_a_form_body_is_sent_as_True_and_rejected(
    schema: Schema, method: str, path: str, params: dict, key: str
) -> None:
    assert errors_of(schema, method, path, {**params, key: True}) == {
        key: type_error("boolean", "True")
    }


@pytest.mark.parametrize(
    ("method", "path", "params", "expected"),
    [
        (
            "GET",
            "/cluster/resources",
            {"type": "vms"},
            {"type": enum_error("vms", ["vm", "storage", "node", "sdn"])},
        ),
        ("GET", "/cluster/nextid", {"vmid": "99"}, {"vmid": BAD_VMID}),
        (
            "POST",
            "/nodes/pve/qemu",
            {"vmid": "500", "cores": "0"},
            {"cores": "value must have a minimum value of 1"},
        ),
        (
            "POST",
            f"{VM}/config",
            {"background_delay": "31"},
            {"background_delay": "value must have a maximum value of 30"},
        ),
        (
            "PUT",
            f"{VM}/resize",
            {"disk": "scsi0", "size": "10GB"},
            {"size": "value does not match the regex pattern"},
        ),
        (
            "PUT",
            f"{VM}/resize",
            {"disk": "sdb", "size": "10G"},
            {"disk": enum_error("sdb", DISKS)},
        ),
        (
            "POST",
            f"{VM}/config",
            {"serial0": "tcp:1234"},
            {"serial0": "value does not match the regex pattern"},
        ),
        (
            "POST",
            f"{VM}/config",
            {"digest": "a" * 41},
            {"digest": "value may only be 40 characters long"},
        ),
        (
            "POST",
            f"{VM}/clone",
            {"newid": "501", "name": "my_vm"},
            {"name": "invalid format - value does not look like a valid DNS name\n"},
        ),
        (
            "POST",
            f"{VM}/clone",
            {"newid": "501", "snapname": "x" * 41},
            {"snapname": "value may only be 40 characters long"},
        ),
        (
            "GET",
            "/nodes/pve/storage/local/content",
            {"content": "imagez"},
            {"content": "invalid format - invalid content type 'imagez'\n"},
        ),
        (
            "POST",
            DL,
            {
                "url": "ftp://x/y",
                "content": "images",
                "filename": "y.qcow2",
                "checksum-algorithm": "md4",
                "checksum": "00",
            },
            {
                "url": "value does not match the regex pattern",
                "content": enum_error("images", ["iso", "vztmpl", "import"]),
                "checksum-algorithm": enum_error(
                    "md4", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
                ),
            },
        ),
        (
            "POST",
            DL,
            {"url": "https://x/y.iso", "content": "iso", "filename": "y.iso", "compression": "xz"},
            {"compression": enum_error("xz", ["gz", "lzo", "zst", "bz2"])},
        ),
        (
            "POST",
            "/access/ticket",
            {"username": "root@pam", "password": "x", "path": "/"},
            {"privs": "missing property - 'path' requires this property"},
        ),
    ],
)
def test_pattern_enum_range_and_format_violations(
    schema: Schema, method: str, path: str, params: dict, expected: dict
) -> None:
    assert errors_of(schema, method, path, params) == expected


def test_download_url_checksum_requires_algorithm(schema: Schema) -> None:
    params = {"url": "https://x/y.qcow2", "content": "import", "filename": "y.qcow2"}
    errors = errors_of(schema, "POST", DL, {**params, "checksum": "00"})
    assert errors == {"checksum-algorithm": "missing property - 'checksum' requires this property"}
    errors = errors_of(schema, "POST", DL, {**params, "checksum-algorithm": "sha256"})
    assert errors == {"checksum": "missing property - 'checksum-algorithm' requires this property"}


def test_all_errors_are_collected_before_raising(schema: Schema) -> None:
    errors = errors_of(
        schema,
        "POST",
        "/nodes/pve/qemu",
        {"vmid": "99", "cores": "x", "start": "True", "foo": "1", "ostype": "dos"},
    )
    assert set(errors) == {"vmid", "cores", "start", "foo", "ostype"}


def test_json_body_booleans_and_numbers(schema: Schema) -> None:
    route = schema.resolve("POST", f"{VM}/clone")
    params = {"newid": 501, "full": True, "name": "web-1"}
    assert schema.validate(route, params, json_body=True) == {
        "node": "pve",
        "vmid": 500,
        "newid": 501,
        "full": 1,
        "name": "web-1",
    }
    assert errors_of(schema, "POST", f"{VM}/clone", {"newid": True}, json_body=True) == {
        "newid": "type check ('integer') failed - got JSON::PP::Boolean"
    }
    assert errors_of(
        schema, "POST", f"{VM}/clone", {"newid": 501, "full": "True"}, json_body=True
    ) == {"full": type_error("boolean", "True")}
