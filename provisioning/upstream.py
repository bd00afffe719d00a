"""What upstream publishes for a distribution: image digest, algorithm, version, file name.

Shared by the build (which downloads exactly that) and update detection (which compares it with
the digest recorded on the latest template). The stored image name carries the digest
(``<stem>-<12 hex>.qcow2``), so a name in the storage listing means exactly those bytes are
there (PVE checked them on download) and a new upstream image never clashes with the old file.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

import requests

from provisioning.checksums import (
    find_image,
    parse_checksum_file,
    resolve_version,
    version_from_url,
)
from provisioning.errors import SoltiError
from provisioning.ops import Ops

__all__ = ["fetch_upstream"]


def _http_get(url: str) -> str:
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.text


def fetch_upstream(ops: Ops, distribution: str) -> dict[str, Any]:
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
    version = resolve_version(checksums, found) or version_from_url(entry.image_url)
    stem, ext = posixpath.splitext(entry.image_filename)
    return {
        "entry": entry,
        "checksum": found.hexdigest,
        "algorithm": found.algorithm,
        "version": version or found.hexdigest[:12],
        "filename": f"{stem}-{found.hexdigest[:12]}{ext}",
    }
