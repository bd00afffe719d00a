"""Template versions for every distribution family, resolved against the mirror as upstream.

Rocky, AlmaLinux and CentOS Stream name ``latest``'s dated twin in the checksum file; Debian's
``latest/`` and Ubuntu's ``current/`` do not, so their version is the release plus the image's
``Last-Modified`` date (one HEAD request). A digest prefix must never pose as a version.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from solti.provisioning.catalog import Catalog
from solti.provisioning.notes import parse_notes
from solti.provisioning.service import Provisioner
from solti.provisioning.upstream import fetch_upstream
from solti.sandbox.environment import SimEnvironment

TWINNED = ["rocky9", "rocky10", "almalinux9", "almalinux10", "centos-stream9", "centos-stream10"]
UNDATED = {"debian12": "12", "debian13": "13", "ubuntu2204": "22.04", "ubuntu2404": "24.04"}


def expected_version(world: SimEnvironment, distribution: str) -> str:
    if distribution in UNDATED:
        return f"{UNDATED[distribution]}-{world.mirror.published(distribution):%Y%m%d}"
    return world.mirror.current_version(distribution)


def heads(world: SimEnvironment) -> list[str]:
    return [r.path for r in world.mirror.requests if r.method == "HEAD"]


@pytest.mark.parametrize("distribution", TWINNED + list(UNDATED))
def test_every_family_resolves_a_version_not_a_digest(
    provisioner: Provisioner, world: SimEnvironment, distribution: str
) -> None:
    status = provisioner.check_updates(distribution)[0]
    version = status.upstream_version
    assert version == expected_version(world, distribution)
    assert status.upstream_checksum and not status.upstream_checksum.startswith(version)
    # Only the distributions without a dated twin pay for the HEAD request.
    image_path = world.mirror.layout(distribution).latest_path()
    assert heads(world) == ([image_path] if distribution in UNDATED else [])


@pytest.mark.parametrize("distribution", ["debian12", "ubuntu2404"])
def test_build_records_the_dated_version(
    provisioner: Provisioner, world: SimEnvironment, distribution: str
) -> None:
    info = provisioner.build_template(distribution).template
    assert info.version == expected_version(world, distribution)
    meta = parse_notes(provisioner.client.vm_config(info.node, info.vmid)["description"])
    assert meta["version"] == info.version and meta["version_source"] == "last-modified"
    assert meta["checksum"] == info.checksum != info.version
    record = provisioner.audit.query(action="template build")[0]
    assert record.template_version == info.version


@pytest.mark.parametrize("distribution", ["debian13", "ubuntu2204"])
def test_a_new_upstream_build_changes_the_version(
    provisioner: Provisioner, world: SimEnvironment, distribution: str
) -> None:
    first = provisioner.build_template(distribution).template
    world.mirror.publish_new_image(distribution)
    status = provisioner.check_updates(distribution)[0]
    assert status.state == "update_available"
    assert status.upstream_version == expected_version(world, distribution) != first.version
    rebuilt = provisioner.build_template(distribution).template
    assert rebuilt.version == status.upstream_version
    assert rebuilt.checksum == status.upstream_checksum != first.checksum


def test_no_last_modified_gives_unknown_and_keeps_the_checksum(
    provisioner: Provisioner, world: SimEnvironment
) -> None:
    world.mirror.last_modified = False  # reset() by the fixture turns it back on
    info = provisioner.build_template("debian12").template
    assert info.version == "unknown"
    assert info.checksum == hashlib.sha512(world.mirror.image_bytes("debian12")).hexdigest()
    notes = provisioner.client.vm_config(info.node, info.vmid)["description"]
    meta = parse_notes(notes)
    assert meta["version"] == "unknown" and meta["version_source"] == "unknown"
    assert meta["checksum"] == info.checksum
    assert notes.splitlines()[0] == "Solti template: debian12 (version unknown)"
    status = provisioner.check_updates("debian12")[0]
    assert status.state == "current" and status.upstream_version == "unknown"
    # Twinned distributions never needed the header.
    assert provisioner.check_updates("rocky9")[0].upstream_version == (
        world.mirror.current_version("rocky9")
    )


def test_a_pinned_dated_url_needs_no_head(provisioner: Provisioner, world: SimEnvironment) -> None:
    version = world.mirror.current_version("debian12")
    directory = f"{world.mirror.url}/debian/bookworm/{version}"
    catalog = Catalog.load(
        {
            "debian12": {
                "image_url": f"{directory}/debian-12-genericcloud-amd64-{version}.qcow2",
                "checksum_url": f"{directory}/SHA512SUMS",
            }
        }
    )
    ops = dataclasses.replace(provisioner.ops, catalog=catalog)
    upstream = fetch_upstream(ops, "debian12")
    assert (upstream["version"], upstream["version_source"]) == (version, "url")
    assert heads(world) == []
