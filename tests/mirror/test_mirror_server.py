"""The image mirror over real HTTP: every distribution, its upstream formats, new builds."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from solti.provisioning.checksums import find_image, parse_checksum_file, resolve_version
from solti.sandbox.mirror import ImageMirror
from solti.sandbox.mirror.qcow2 import parse_header

GiB = 1024**3
CATALOG = (
    Path(__file__).resolve().parents[2] / "src" / "solti" / "provisioning" / "data" / "catalog.yaml"
)
TWINNED = {"rocky9", "rocky10", "almalinux9", "almalinux10", "centos-stream9", "centos-stream10"}
EXPECTED = {
    "rocky9",
    "rocky10",
    "debian12",
    "debian13",
    "ubuntu2204",
    "ubuntu2404",
    "almalinux9",
    "almalinux10",
    "centos-stream9",
    "centos-stream10",
}


@pytest.fixture(scope="module")
def mirror() -> Iterator[ImageMirror]:
    with ImageMirror() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(mirror: ImageMirror) -> None:
    mirror.reset()


def _get(url: str) -> requests.Response:
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response


def test_serves_every_catalog_distribution(mirror: ImageMirror) -> None:
    assert set(mirror.distributions) == EXPECTED
    overrides = mirror.catalog_overrides()
    assert set(overrides) == EXPECTED
    for entry in overrides.values():
        assert set(entry) == {"image_url", "checksum_url", "checksum_algorithm"}
        assert entry["image_url"].startswith(mirror.url + "/")


@pytest.mark.parametrize("distribution", sorted(EXPECTED))
def test_image_and_checksum_agree(mirror: ImageMirror, distribution: str) -> None:
    entry = mirror.catalog_overrides()[distribution]
    image = _get(entry["image_url"]).content
    text = _get(entry["checksum_url"]).text
    parsed = parse_checksum_file(text, source=entry["checksum_url"])
    line = find_image(parsed, entry["image_url"], entry["checksum_algorithm"])
    assert line.hexdigest == hashlib.new(entry["checksum_algorithm"], image).hexdigest()
    header = parse_header(image)
    assert header.version == 3
    assert header.cluster_bits == 16
    assert header.virtual_size >= 2 * GiB
    expected = mirror.current_version(distribution) if distribution in TWINNED else None
    assert resolve_version(parsed, line) == expected


def test_same_basenames_as_the_catalog(mirror: ImageMirror) -> None:
    catalog = yaml.safe_load(CATALOG.read_text())
    for name, entry in mirror.catalog_overrides().items():
        for key in ("image_url", "checksum_url"):
            assert posixpath.basename(entry[key]) == posixpath.basename(catalog[name][key]), (
                name,
                key,
            )
        assert entry["checksum_algorithm"] == catalog[name]["checksum_algorithm"]


def test_upstream_formats(mirror: ImageMirror) -> None:
    overrides = mirror.catalog_overrides()
    rocky = _get(overrides["rocky9"]["checksum_url"]).text
    assert "# Rocky-9-GenericCloud-Base.latest.x86_64.qcow2: " in rocky
    assert "SHA256 (Rocky-9-GenericCloud-Base-9.7-20251123.2.x86_64.qcow2) = " in rocky
    centos = _get(overrides["centos-stream9"]["checksum_url"]).text
    assert "SHA256 (CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2) = " in centos
    assert "bytes" not in centos
    alma = _get(overrides["almalinux10"]["checksum_url"]).text
    assert "  AlmaLinux-10-GenericCloud-10.2-20260526.0.x86_64.qcow2\n" in alma
    debian = _get(overrides["debian12"]["checksum_url"]).text.splitlines()
    assert all(len(line.split("  ")[0]) == 128 for line in debian)
    assert "  debian-12-genericcloud-amd64.qcow2" in "\n".join(debian)
    ubuntu = _get(overrides["ubuntu2404"]["checksum_url"]).text
    assert " *noble-server-cloudimg-amd64.img\n" in ubuntu
    # The directory-wide Rocky CHECKSUM lists other images, matched only by exact basename.
    directory = _get(f"{mirror.url}/rocky/9/images/x86_64/CHECKSUM").text
    assert "Rocky-9-GenericCloud-LVM.latest.x86_64.qcow2" in directory


def test_virtual_sizes_are_realistic(mirror: ImageMirror) -> None:
    sizes = {d: parse_header(mirror.image_bytes(d)).virtual_size for d in ("rocky9", "ubuntu2404")}
    assert sizes == {"rocky9": 10 * GiB, "ubuntu2404": 2 * GiB}
    assert parse_header(mirror.image_bytes("debian13")).virtual_size == 3 * GiB


def test_publish_new_image_changes_latest(mirror: ImageMirror) -> None:
    entry = mirror.catalog_overrides()["rocky9"]
    before = _get(entry["image_url"]).content
    old_version = mirror.current_version("rocky9")
    new_version = mirror.publish_new_image("rocky9")
    assert new_version != old_version
    assert mirror.current_version("rocky9") == new_version
    after = _get(entry["image_url"]).content
    assert after != before
    parsed = parse_checksum_file(_get(entry["checksum_url"]).text)
    line = find_image(parsed, entry["image_url"], "sha256")
    assert line.hexdigest == hashlib.sha256(after).hexdigest()
    assert resolve_version(parsed, line) == new_version
    # The old dated build stays downloadable and listed in the directory file.
    directory = _get(f"{mirror.url}/rocky/9/images/x86_64/CHECKSUM").text
    assert f"Rocky-9-GenericCloud-Base-{old_version}.x86_64.qcow2" in directory
    # Other distributions are untouched.
    assert mirror.current_version("rocky10") == "10.1-20251116.0"


def test_publish_debian_adds_a_dated_directory(mirror: ImageMirror) -> None:
    version = mirror.publish_new_image("debian12")
    assert version == "20250211-2019"
    dated = f"{mirror.url}/debian/bookworm/{version}"
    image = _get(f"{dated}/debian-12-genericcloud-amd64-{version}.qcow2").content
    assert image == mirror.image_bytes("debian12")
    sums = parse_checksum_file(_get(f"{dated}/SHA512SUMS").text)
    assert find_image(sums, f"debian-12-genericcloud-amd64-{version}.qcow2").hexdigest == (
        hashlib.sha512(image).hexdigest()
    )


def test_requests_are_recorded_and_unknown_paths_404(mirror: ImageMirror) -> None:
    entry = mirror.catalog_overrides()["ubuntu2204"]
    _get(entry["checksum_url"])
    assert mirror.downloads("ubuntu2204") == []
    _get(entry["image_url"])
    assert [r.path for r in mirror.downloads("ubuntu2204")] == [
        "/ubuntu/jammy/current/jammy-server-cloudimg-amd64.img"
    ]
    assert mirror.downloads("ubuntu2404") == []
    missing = requests.get(f"{mirror.url}/nope.qcow2", timeout=10)
    assert missing.status_code == 404
    assert mirror.requests[-1].status == 404
    head = requests.head(entry["image_url"], timeout=10)
    assert int(head.headers["Content-Length"]) == len(mirror.image_bytes("ubuntu2204"))


def test_reset_restores_first_builds(mirror: ImageMirror) -> None:
    first = mirror.current_version("almalinux9")
    mirror.publish_new_image("almalinux9")
    mirror.reset()
    assert mirror.current_version("almalinux9") == first
    assert mirror.requests == []


def test_unknown_distribution_names_the_known_ones(mirror: ImageMirror) -> None:
    with pytest.raises(KeyError, match="known: rocky9"):
        mirror.publish_new_image("gentoo")


def test_dated_names_are_upstream_names(mirror: ImageMirror) -> None:
    centos = _get(mirror.catalog_overrides()["centos-stream9"]["checksum_url"]).text
    assert "SHA256 (CentOS-Stream-GenericCloud-9-20251117.0.x86_64.qcow2) = " in centos
    alma = _get(mirror.catalog_overrides()["almalinux9"]["checksum_url"]).text
    assert "  AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2\n" in alma


def test_catalog_accepts_the_overrides(mirror: ImageMirror) -> None:
    from solti.provisioning.catalog import Catalog

    catalog = Catalog.load(mirror.catalog_overrides())
    ubuntu = catalog.get("ubuntu2404")
    assert ubuntu.image_url.startswith(mirror.url)
    assert ubuntu.image_filename == "noble-server-cloudimg-amd64.qcow2"
    assert catalog.get("rocky9").ssh_user == "rocky"
