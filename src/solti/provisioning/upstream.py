"""What upstream publishes for a distribution: image digest, algorithm, version, file name.

Shared by the build (which downloads exactly that) and update detection (which compares it with
the digest recorded on the latest template). The stored image name carries the digest
(``<stem>-<12 hex>.qcow2``), so a name in the storage listing means exactly those bytes are
there (PVE checked them on download) and a new upstream image never clashes with the old file.

The version is for people (notes, reports), never for deciding anything, so finding it must not
fail a build. It is resolved in order of trust, and ``version_source`` says which one answered:

1. ``twin``: the dated name sharing the ``latest`` digest (Rocky, AlmaLinux, CentOS Stream);
2. ``url``: a dated directory in the image URL (a pinned Debian or Ubuntu build);
3. ``last-modified``: the image's HTTP ``Last-Modified`` from one HEAD request (Debian
   ``latest/``, Ubuntu ``current/``), as ``<release>-<YYYYMMDD>``;
4. ``unknown``: the version is the word ``unknown``. A digest prefix is not a version, and the
   digest is recorded on its own anyway.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any

import requests

from solti.provisioning.checksums import (
    find_image,
    parse_checksum_file,
    resolve_version,
    version_from_last_modified,
    version_from_url,
)
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import SoltiError

__all__ = ["UNKNOWN_VERSION", "fetch_upstream", "image_version"]

UNKNOWN_VERSION = "unknown"


def _http_get(url: str) -> str:
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.text


def _http_head(url: str) -> Mapping[str, str]:
    response = requests.head(url, timeout=30, allow_redirects=True)
    response.raise_for_status()
    return response.headers


def _last_modified(ops: Collaborators, url: str) -> str | None:
    """The image's ``Last-Modified`` header, or None when the server does not say or fails."""
    head: Callable[[str], Mapping[str, str]] = ops.http_head or _http_head
    try:
        headers = head(url)
    except requests.RequestException:
        return None
    for name, value in headers.items():
        if name.lower() == "last-modified":
            return value
    return None


def image_version(ops: Collaborators, entry: Any, checksums: Any, found: Any) -> tuple[str, str]:
    """``(version, source)`` of the catalog entry's image; see the module docstring."""
    twin = resolve_version(checksums, found)
    if twin:
        return twin, "twin"
    dated = version_from_url(entry.image_url)
    if dated:
        return dated, "url"
    stamped = version_from_last_modified(_last_modified(ops, entry.image_url), entry.release)
    if stamped:
        return stamped, "last-modified"
    return UNKNOWN_VERSION, "unknown"


def fetch_upstream(ops: Collaborators, distribution: str) -> dict[str, Any]:
    """Upstream digest, algorithm, version and stored file name of a distribution's image."""
    entry = ops.catalog.get(distribution)
    getter: Callable[[str], str] = ops.http_get or _http_get
    try:
        text = getter(entry.checksum_url)
    except requests.RequestException as exc:
        raise SoltiError(
            f"cannot fetch the checksum file {entry.checksum_url} ({type(exc).__name__})"
        ) from None
    checksums = parse_checksum_file(text, source=entry.checksum_url)
    found = find_image(checksums, entry.image_url, entry.checksum_algorithm)
    version, source = image_version(ops, entry, checksums, found)
    stem, ext = posixpath.splitext(entry.image_filename)
    return {
        "entry": entry,
        "checksum": found.hexdigest,
        "algorithm": found.algorithm,
        "version": version,
        "version_source": source,
        "filename": f"{stem}-{found.hexdigest[:12]}{ext}",
    }
