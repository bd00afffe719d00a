"""Where each distribution keeps its cloud images and checksums upstream, and how they look.

Pure data and rendering: given the builds a distribution has published, ``render_tree`` says
which files exist at which paths with which bytes. File names and checksum formats are the
real upstream ones (``docs/reference/cloud-images.md``) so the catalog's image names and
checksum-line matching by basename behave against the mirror exactly as against upstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple

__all__ = [
    "LAYOUTS",
    "Build",
    "Layout",
    "Served",
    "Variant",
    "render_checksums",
    "render_files",
    "render_tree",
]

GiB = 1024**3
Style = Literal["bsd", "gnu", "gnu-binary"]


@dataclass(frozen=True)
class Build:
    """One upstream build: its date and the serial of that day (Debian numbers them)."""

    day: date
    serial: int = 0

    def next(self) -> Build:
        """The following day's build, which is what a new upstream publication looks like."""
        return replace(self, day=self.day + timedelta(days=1))

    @property
    def published(self) -> datetime:
        """When the build's files were written upstream: its day, in the early hours (UTC).

        Served as ``Last-Modified``; for Debian and Ubuntu, whose ``latest``/``current`` names
        carry no date, that header is the only place a reader finds the build date.
        """
        return datetime.combine(self.day, time(3, 14, 15), tzinfo=UTC)


class Served(NamedTuple):
    """One file the mirror serves: its bytes and the build that last wrote it."""

    data: bytes
    build: Build


@dataclass(frozen=True)
class Variant:
    """One image published in a directory: its undated name and its dated name."""

    latest: str
    dated: str  # with ``{version}``

    def dated_name(self, version: str) -> str:
        return self.dated.format(version=version)


@dataclass(frozen=True)
class Layout:
    """A distribution's upstream directory layout and checksum file format.

    ``dated_directory`` is None when dated files sit beside the ``latest`` one (Rocky, Alma,
    CentOS Stream) and a path template when each build has its own directory (Debian, Ubuntu).
    The first variant is the image the catalog uses; the others make the checksum file hold
    lines for unrelated images, as upstream's do.
    """

    distribution: str
    directory: str
    checksum_file: str
    style: Style
    algorithm: str
    virtual_size: int
    version_format: str  # ``{d}`` the build date as YYYYMMDD, ``{s}`` its serial
    first_build: Build
    variants: tuple[Variant, ...]
    dated_directory: str | None = None
    size_comments: bool = False
    sidecar_suffix: str | None = None
    # The catalog reads the latest image's sidecar (Rocky); it then lists the dated twin too,
    # as rocky-linux/checksums' combined manifests do, so the version can still be resolved.
    catalog_uses_sidecar: bool = False

    @property
    def image(self) -> Variant:
        return self.variants[0]

    def version(self, build: Build) -> str:
        return self.version_format.format(d=build.day.strftime("%Y%m%d"), s=build.serial)

    def latest_path(self) -> str:
        return f"{self.directory}/{self.image.latest}"

    def checksum_path(self) -> str:
        """The checksum file the catalog points at for this distribution."""
        if self.catalog_uses_sidecar and self.sidecar_suffix:
            return self.latest_path() + self.sidecar_suffix
        return self.directory_checksum_path()

    def directory_checksum_path(self) -> str:
        return f"{self.directory}/{self.checksum_file}"


def _rocky(major: int, minor: int, first: Build) -> Layout:
    return Layout(
        distribution=f"rocky{major}",
        directory=f"/rocky/{major}/images/x86_64",
        checksum_file="CHECKSUM",
        style="bsd",
        algorithm="sha256",
        virtual_size=10 * GiB,
        version_format=f"{major}.{minor}-{{d}}.{{s}}",
        first_build=first,
        variants=(
            Variant(
                f"Rocky-{major}-GenericCloud-Base.latest.x86_64.qcow2",
                f"Rocky-{major}-GenericCloud-Base-{{version}}.x86_64.qcow2",
            ),
            Variant(
                f"Rocky-{major}-GenericCloud-LVM.latest.x86_64.qcow2",
                f"Rocky-{major}-GenericCloud-LVM-{{version}}.x86_64.qcow2",
            ),
        ),
        size_comments=True,
        sidecar_suffix=".CHECKSUM",
        catalog_uses_sidecar=True,
    )


def _alma(major: int, version_format: str, first: Build) -> Layout:
    return Layout(
        distribution=f"almalinux{major}",
        directory=f"/almalinux/{major}/cloud/x86_64/images",
        checksum_file="CHECKSUM",
        style="gnu",
        algorithm="sha256",
        virtual_size=10 * GiB,
        version_format=version_format,
        first_build=first,
        variants=(
            Variant(
                f"AlmaLinux-{major}-GenericCloud-latest.x86_64.qcow2",
                f"AlmaLinux-{major}-GenericCloud-{{version}}.x86_64.qcow2",
            ),
            Variant(
                f"AlmaLinux-{major}-GenericCloud-UEFI-latest.x86_64.qcow2",
                f"AlmaLinux-{major}-GenericCloud-UEFI-{{version}}.x86_64.qcow2",
            ),
        ),
    )


def _centos(major: int, first: Build) -> Layout:
    return Layout(
        distribution=f"centos-stream{major}",
        directory=f"/centos/{major}-stream/x86_64/images",
        checksum_file="CHECKSUM",
        style="bsd",
        algorithm="sha256",
        virtual_size=10 * GiB,
        version_format=f"{major}-{{d}}.{{s}}",
        first_build=first,
        variants=(
            Variant(
                f"CentOS-Stream-GenericCloud-{major}-latest.x86_64.qcow2",
                "CentOS-Stream-GenericCloud-{version}.x86_64.qcow2",
            ),
            Variant(
                f"CentOS-Stream-GenericCloud-x86_64-{major}-latest.x86_64.qcow2",
                "CentOS-Stream-GenericCloud-x86_64-{version}.x86_64.qcow2",
            ),
        ),
        sidecar_suffix=".SHA256SUM",
    )


def _debian(major: int, codename: str, first: Build) -> Layout:
    return Layout(
        distribution=f"debian{major}",
        directory=f"/debian/{codename}/latest",
        checksum_file="SHA512SUMS",
        style="gnu",
        algorithm="sha512",
        virtual_size=3 * GiB,
        version_format="{d}-{s:04d}",
        first_build=first,
        variants=(
            Variant(
                f"debian-{major}-genericcloud-amd64.qcow2",
                f"debian-{major}-genericcloud-amd64-{{version}}.qcow2",
            ),
            Variant(
                f"debian-{major}-generic-amd64.qcow2",
                f"debian-{major}-generic-amd64-{{version}}.qcow2",
            ),
        ),
        dated_directory=f"/debian/{codename}/{{version}}",
    )


def _ubuntu(distribution: str, codename: str, first: Build) -> Layout:
    return Layout(
        distribution=distribution,
        directory=f"/ubuntu/{codename}/current",
        checksum_file="SHA256SUMS",
        style="gnu-binary",
        algorithm="sha256",
        virtual_size=2 * GiB,
        version_format="{d}",
        first_build=first,
        variants=(
            Variant(
                f"{codename}-server-cloudimg-amd64.img", f"{codename}-server-cloudimg-amd64.img"
            ),
            Variant(
                f"{codename}-server-cloudimg-arm64.img", f"{codename}-server-cloudimg-arm64.img"
            ),
        ),
        dated_directory=f"/ubuntu/{codename}/{{version}}",
    )


LAYOUTS: dict[str, Layout] = {
    layout.distribution: layout
    for layout in (
        _rocky(9, 7, Build(date(2025, 11, 23), 2)),
        _rocky(10, 1, Build(date(2025, 11, 16), 0)),
        _debian(12, "bookworm", Build(date(2025, 2, 10), 2019)),
        _debian(13, "trixie", Build(date(2026, 1, 24), 2367)),
        _ubuntu("ubuntu2204", "jammy", Build(date(2026, 1, 19))),
        _ubuntu("ubuntu2404", "noble", Build(date(2026, 1, 20))),
        _alma(9, "9.7-{d}", Build(date(2025, 11, 18))),
        _alma(10, "10.2-{d}.{s}", Build(date(2026, 5, 26))),
        _centos(9, Build(date(2025, 11, 17))),
        _centos(10, Build(date(2025, 11, 17))),
    )
}


def render_checksums(
    layout: Layout, files: Sequence[tuple[str, bytes]], digest: Callable[[bytes], str]
) -> str:
    """A checksum file listing ``files`` (name, bytes) in the layout's upstream format."""
    lines: list[str] = []
    for name, data in files:
        hexdigest = digest(data)
        if layout.style == "bsd":
            if layout.size_comments:
                lines.append(f"# {name}: {len(data)} bytes")
            lines.append(f"{layout.algorithm.upper()} ({name}) = {hexdigest}")
        elif layout.style == "gnu":
            lines.append(f"{hexdigest}  {name}")
        else:
            lines.append(f"{hexdigest} *{name}")
    return "\n".join(lines) + "\n"


def render_tree(
    layout: Layout,
    builds: Sequence[Build],
    image_bytes: Callable[[Variant, str], bytes],
) -> dict[str, bytes]:
    """Every path the distribution serves after ``builds`` (oldest first), with its bytes."""
    return {path: served.data for path, served in render_files(layout, builds, image_bytes).items()}


def render_files(
    layout: Layout,
    builds: Sequence[Build],
    image_bytes: Callable[[Variant, str], bytes],
) -> dict[str, Served]:
    """Every path the distribution serves after ``builds`` (oldest first), bytes and build.

    The last build is ``latest``: the undated name has the same bytes (and hash) as its dated
    twin, which is how Rocky, AlmaLinux and CentOS Stream let a reader recover the version.
    Checksum files listing the latest build were last written by it, dated files by their own
    build, so each file's ``Last-Modified`` is what upstream's would be.
    """

    def digest(data: bytes) -> str:
        return hashlib.new(layout.algorithm, data).hexdigest()

    tree: dict[str, Served] = {}
    versions = [layout.version(b) for b in builds]
    build_of = dict(zip(versions, builds, strict=True))
    current, newest = versions[-1], builds[-1]
    latest_files = [(v.latest, image_bytes(v, current)) for v in layout.variants]

    if layout.dated_directory is None:
        listed: list[tuple[str, bytes, Build]] = []
        sidecars: dict[str, list[tuple[str, bytes]]] = {}
        for variant, (latest_name, latest_data) in zip(layout.variants, latest_files, strict=True):
            for version in versions:
                name = variant.dated_name(version)
                listed.append((name, image_bytes(variant, version), build_of[version]))
                sidecars[name] = [listed[-1][:2]]
            listed.append((latest_name, latest_data, newest))
            twin = (variant.dated_name(current), latest_data)
            sidecars[latest_name] = (
                [twin, listed[-1][:2]] if layout.catalog_uses_sidecar else [listed[-1][:2]]
            )
        for name, data, build in listed:
            tree[f"{layout.directory}/{name}"] = Served(data, build)
            if layout.sidecar_suffix:
                sidecar = render_checksums(layout, sidecars[name], digest).encode()
                tree[f"{layout.directory}/{name}{layout.sidecar_suffix}"] = Served(sidecar, build)
        everything = render_checksums(layout, [(n, d) for n, d, _ in listed], digest)
        tree[layout.directory_checksum_path()] = Served(everything.encode(), newest)
        return tree

    for version in versions:
        build = build_of[version]
        directory = layout.dated_directory.format(version=version)
        dated = [(v.dated_name(version), image_bytes(v, version)) for v in layout.variants]
        for name, data in dated:
            tree[f"{directory}/{name}"] = Served(data, build)
        sums = render_checksums(layout, dated, digest).encode()
        tree[f"{directory}/{layout.checksum_file}"] = Served(sums, build)
    for name, data in latest_files:
        tree[f"{layout.directory}/{name}"] = Served(data, newest)
    sums = render_checksums(layout, latest_files, digest).encode()
    tree[layout.directory_checksum_path()] = Served(sums, newest)
    return tree
