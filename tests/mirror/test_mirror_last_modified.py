"""The mirror's ``Last-Modified``: the build date of every file, as upstream servers send it.

Debian's ``latest/`` and Ubuntu's ``current/`` names carry no date, so provisioning reads the
build date from this header; these tests pin down that the mirror tells the truth about it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
import requests

from solti.sandbox.mirror import ImageMirror


@pytest.fixture(scope="module")
def mirror() -> Iterator[ImageMirror]:
    with ImageMirror() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(mirror: ImageMirror) -> None:
    mirror.reset()


def _modified(url: str, method: str = "HEAD") -> datetime | None:
    response = requests.request(method, url, timeout=10)
    response.raise_for_status()
    value = response.headers.get("Last-Modified")
    return parsedate_to_datetime(value) if value is not None else None


@pytest.mark.parametrize("distribution", ["debian12", "ubuntu2404", "rocky9", "almalinux10"])
def test_latest_image_and_checksums_carry_the_build_date(
    mirror: ImageMirror, distribution: str
) -> None:
    entry = mirror.catalog_overrides()[distribution]
    published = mirror.published(distribution)
    assert published.tzinfo is not None
    assert _modified(entry["image_url"]) == published
    assert _modified(entry["image_url"], "GET") == published
    assert _modified(entry["checksum_url"]) == published


def test_debian_first_build_date_is_its_dated_directory(mirror: ImageMirror) -> None:
    version = mirror.current_version("debian12")
    assert version == "20250210-2019"
    assert mirror.published("debian12").strftime("%Y%m%d") == version.split("-")[0]


def test_publish_moves_latest_and_keeps_old_dates(mirror: ImageMirror) -> None:
    entry = mirror.catalog_overrides()["ubuntu2204"]
    old_version, old_date = mirror.current_version("ubuntu2204"), mirror.published("ubuntu2204")
    new_version = mirror.publish_new_image("ubuntu2204")
    new_date = mirror.published("ubuntu2204")
    assert new_date > old_date
    assert _modified(entry["image_url"]) == new_date
    assert _modified(entry["checksum_url"]) == new_date
    # The previous serial directory was written by the previous build and still says so.
    old = f"{mirror.url}/ubuntu/jammy/{old_version}/jammy-server-cloudimg-amd64.img"
    assert _modified(old) == old_date
    new = f"{mirror.url}/ubuntu/jammy/{new_version}/jammy-server-cloudimg-amd64.img"
    assert _modified(new) == new_date
    # Another distribution's files are not touched by the publication.
    assert _modified(mirror.catalog_overrides()["debian12"]["image_url"]) == mirror.published(
        "debian12"
    )


def test_side_by_side_dated_files_keep_their_own_date(mirror: ImageMirror) -> None:
    old_version, old_date = mirror.current_version("rocky9"), mirror.published("rocky9")
    mirror.publish_new_image("rocky9")
    directory = f"{mirror.url}/rocky/9/images/x86_64"
    assert _modified(f"{directory}/Rocky-9-GenericCloud-Base-{old_version}.x86_64.qcow2") == (
        old_date
    )
    assert _modified(f"{directory}/CHECKSUM") == mirror.published("rocky9") != old_date


def test_header_can_be_switched_off_and_reset_restores_it(mirror: ImageMirror) -> None:
    url = mirror.catalog_overrides()["debian13"]["image_url"]
    mirror.last_modified = False
    assert _modified(url) is None
    mirror.reset()
    assert _modified(url) == mirror.published("debian13")


def test_a_mirror_built_without_the_header() -> None:
    with ImageMirror(last_modified=False) as bare:
        url = bare.catalog_overrides()["ubuntu2404"]["image_url"]
        assert _modified(url) is None
        bare.reset()
        assert _modified(url) is None


def test_a_missing_path_has_no_date(mirror: ImageMirror) -> None:
    response = requests.head(f"{mirror.url}/nope.qcow2", timeout=10)
    assert response.status_code == 404
    assert "Last-Modified" not in response.headers
