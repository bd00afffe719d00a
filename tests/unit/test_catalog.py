"""The distribution catalog: built-in entries and the policy's overrides."""

from __future__ import annotations

import re

import pytest

from solti.provisioning.catalog import Catalog, import_filename
from solti.provisioning.errors import ConfigError, NotFound

BUILTIN = [
    "almalinux10", "almalinux9", "centos-stream10", "centos-stream9", "debian12", "debian13",
    "rocky10", "rocky9", "ubuntu2204", "ubuntu2404",
]  # fmt: skip
IMPORT_NAME = re.compile(r"^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$")
USERS = {"rocky": "rocky", "debian": "debian", "ubuntu": "ubuntu", "almalinux": "almalinux",
         "centos-stream": "cloud-user"}  # fmt: skip


def test_builtin_entries_are_complete() -> None:
    catalog = Catalog.load()
    assert catalog.names == BUILTIN
    for entry in catalog:
        assert entry.image_url.startswith("https://")
        assert entry.checksum_url.startswith("https://")
        assert entry.os_type == "l26"
        assert entry.tags and entry.description
        assert IMPORT_NAME.match(entry.image_filename), entry.name
        family = entry.name.rstrip("0123456789")
        assert entry.ssh_user == USERS[family]
    assert catalog.get("debian12").checksum_algorithm == "sha512"
    assert catalog.get("rocky9").checksum_algorithm == "sha256"


def test_releases_prefix_date_only_versions() -> None:
    """Debian and Ubuntu versions come from a date alone; the release says which line it is."""
    releases = {e.name: e.release for e in Catalog.load()}
    assert releases["debian12"] == "12" and releases["debian13"] == "13"
    assert releases["ubuntu2204"] == "22.04" and releases["ubuntu2404"] == "24.04"
    assert all(releases.values())
    assert Catalog.load({"debian12": {"release": "bookworm"}}).get("debian12").release == (
        "bookworm"
    )
    new = {
        "image_url": "http://m/x.qcow2",
        "checksum_url": "http://m/S",
        "checksum_algorithm": "sha256",
    }
    assert Catalog.load({"lab": new}).get("lab").release is None


def test_ubuntu_img_is_imported_as_qcow2() -> None:
    entry = Catalog.load().get("ubuntu2404")
    assert entry.image_url.endswith("noble-server-cloudimg-amd64.img")
    assert entry.image_filename == "noble-server-cloudimg-amd64.qcow2"
    assert import_filename("http://m/a/b.qcow2?x=1") == "b.qcow2"


def test_override_keeps_the_other_keys() -> None:
    catalog = Catalog.load({"rocky9": {"image_url": "http://127.0.0.1:9/rocky/Rocky-9.img"}})
    entry = catalog.get("rocky9")
    assert entry.image_url == "http://127.0.0.1:9/rocky/Rocky-9.img"
    assert entry.image_filename == "Rocky-9.qcow2"  # follows the new URL
    assert entry.checksum_url.startswith("https://dl.rockylinux.org/")
    assert entry.ssh_user == "rocky"


def test_new_entry() -> None:
    catalog = Catalog.load(
        {"lab-os": {"image_url": "http://mirror/lab.raw", "checksum_url": "http://mirror/SUMS",
                    "checksum_algorithm": "sha512", "tags": ["Lab", "lab"]}}
    )  # fmt: skip
    entry = catalog.get("lab-os")
    assert entry.image_filename == "lab.raw"
    assert entry.tags == ["lab"]
    assert entry.os_type == "l26"
    assert "lab-os" in catalog and len(catalog) == len(BUILTIN) + 1


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        ({"new": {"image_url": "http://m/x.qcow2"}}, "distributions.new.checksum_url",
         "a new distribution needs checksum_url, checksum_algorithm"),
        ({"rocky9": {"imag_url": "x"}}, "distributions.rocky9.imag_url",
         "unknown key (did you mean image_url?)"),
        ({"rocky9": {"image_url": "ftp://m/x.qcow2"}}, "distributions.rocky9.image_url",
         "not an http(s) URL"),
        ({"rocky9": {"checksum_algorithm": "crc32"}}, "distributions.rocky9.checksum_algorithm",
         "'crc32' is not allowed"),
        ({"rocky9": {"image_url": "http://m/x.iso"}}, "distributions.rocky9.image_filename",
         "not a PVE import file name"),
        ({"rocky9": {"os_type": "linux"}}, "distributions.rocky9.os_type", "is not allowed"),
        ({"debian12": {"release": "12-1"}}, "distributions.debian12.release",
         "'12-1' is not a release"),
        ({"Bad Name": {"image_url": "http://m/x.qcow2", "checksum_url": "http://m/S",
                       "checksum_algorithm": "sha256"}}, "distributions.Bad Name.name",
         "not a distribution name"),
    ],
)  # fmt: skip
def test_override_errors_name_the_key(overrides: dict, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Catalog.load(overrides)
    assert info.value.key == key
    assert message in str(info.value)


def test_unknown_distribution() -> None:
    with pytest.raises(NotFound, match=r"unknown distribution 'fedora'; the catalog knows alma"):
        Catalog.load().get("fedora")


def test_one_policy_overrides_do_not_leak_into_the_next_load() -> None:
    """The built-in file is parsed once per process (``_builtin_parsed``); each load merges a
    policy's overrides into its own copy, so a bot serving several clusters, or a test after
    another, sees the built-in values again."""
    changed = Catalog.load(
        {
            "rocky9": {"ssh_user": "admin", "image_url": "https://mirror.example/r9.qcow2"},
            "mine": {
                "image_url": "https://mirror.example/mine.qcow2",
                "checksum_url": "https://mirror.example/SHA256SUMS",
                "checksum_algorithm": "sha256",
                "ssh_user": "me",
            },
        }
    )
    assert changed.get("rocky9").ssh_user == "admin"
    assert changed.get("rocky9").image_filename == "r9.qcow2"
    again = Catalog.load()
    assert again.names == BUILTIN
    rocky = again.get("rocky9")
    assert rocky.ssh_user == "rocky"
    assert rocky.image_url.startswith("https://dl.rockylinux.org/")
    assert rocky.image_filename == "Rocky-9-GenericCloud-Base.latest.x86_64.qcow2"
