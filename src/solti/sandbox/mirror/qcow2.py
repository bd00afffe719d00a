"""Small but valid qcow2 version 3 images, built in memory.

The simulator's ``import-from`` reads the virtual size from the header, and a person may run
``qemu-img info`` on a downloaded file, so the images follow the qcow2 specification (QEMU
``docs/interop/qcow2.txt``): header in cluster 0, refcount table in cluster 1, one refcount
block in cluster 2, an all-empty L1 table in cluster 3. The guest disk reads as zeros.

Each image also carries a few KiB of deterministic pseudo-random bytes in an unknown header
extension (which readers must ignore) so every (distribution, version) has its own digest,
which is what update detection compares.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

__all__ = [
    "CLUSTER_BITS",
    "MAGIC",
    "Qcow2Header",
    "build_image",
    "parse_header",
    "pseudo_random_bytes",
]

MAGIC = b"QFI\xfb"
VERSION = 3
CLUSTER_BITS = 16
CLUSTER_SIZE = 1 << CLUSTER_BITS
REFCOUNT_ORDER = 4  # 16-bit refcounts, the QEMU default
HEADER_LENGTH = 104  # the fixed version 3 header, without the optional compression byte
# An extension type the specification does not define: "can be safely ignored".
PAYLOAD_EXTENSION = 0x534F4C54  # "SOLT"

# Fixed header fields up to and including header_length (QEMU docs/interop/qcow2.txt).
_HEADER = struct.Struct(">4sIQIIQIIQQIIQQQQII")

_REFCOUNT_TABLE_CLUSTER = 1
_REFCOUNT_BLOCK_CLUSTER = 2
_L1_CLUSTER = 3


@dataclass(frozen=True)
class Qcow2Header:
    """The header fields a reader needs to trust and size an image."""

    version: int
    cluster_bits: int
    virtual_size: int
    l1_size: int
    l1_table_offset: int
    refcount_table_offset: int
    refcount_table_clusters: int
    refcount_order: int
    header_length: int
    extensions: dict[int, bytes]


def pseudo_random_bytes(seed: str, length: int) -> bytes:
    """Deterministic bytes from a seed (SHAKE-256), the same on every machine and run."""
    return hashlib.shake_256(seed.encode()).digest(length)


def _l1_entries(virtual_size: int) -> int:
    # One L2 table maps cluster_size / 8 clusters.
    bytes_per_l2 = CLUSTER_SIZE * (CLUSTER_SIZE // 8)
    return max(1, -(-virtual_size // bytes_per_l2))


def build_image(virtual_size: int, seed: str, payload_size: int = 4096) -> bytes:
    """A qcow2 v3 image of ``virtual_size`` bytes whose digest depends on ``seed``."""
    if virtual_size <= 0 or virtual_size % 512:
        raise ValueError(f"virtual size must be a positive multiple of 512, got {virtual_size}")
    if not 0 <= payload_size <= CLUSTER_SIZE // 2:
        raise ValueError(f"payload must fit the header cluster, got {payload_size} bytes")
    l1_size = _l1_entries(virtual_size)
    header = _HEADER.pack(
        MAGIC,
        VERSION,
        0,  # backing_file_offset
        0,  # backing_file_size
        CLUSTER_BITS,
        virtual_size,
        0,  # crypt_method
        l1_size,
        _L1_CLUSTER * CLUSTER_SIZE,
        _REFCOUNT_TABLE_CLUSTER * CLUSTER_SIZE,
        1,  # refcount_table_clusters
        0,  # nb_snapshots
        0,  # snapshots_offset
        0,  # incompatible_features
        0,  # compatible_features
        0,  # autoclear_features
        REFCOUNT_ORDER,
        HEADER_LENGTH,
    )
    payload = pseudo_random_bytes(seed, payload_size)
    padded = payload + b"\0" * (-len(payload) % 8)
    extensions = struct.pack(">II", PAYLOAD_EXTENSION, len(payload)) + padded
    extensions += struct.pack(">II", 0, 0)  # end of header extensions

    image = bytearray(_L1_CLUSTER * CLUSTER_SIZE + l1_size * 8)
    image[: len(header)] = header
    image[len(header) : len(header) + len(extensions)] = extensions
    table = _REFCOUNT_TABLE_CLUSTER * CLUSTER_SIZE
    image[table : table + 8] = struct.pack(">Q", _REFCOUNT_BLOCK_CLUSTER * CLUSTER_SIZE)
    block = _REFCOUNT_BLOCK_CLUSTER * CLUSTER_SIZE
    for cluster in range(_L1_CLUSTER + 1):  # header, refcount table, refcount block, L1
        image[block + 2 * cluster : block + 2 * cluster + 2] = struct.pack(">H", 1)
    # L1 entries stay zero: every L2 table unallocated, the disk reads as zeros.
    return bytes(image)


def parse_header(data: bytes) -> Qcow2Header:
    """Read the header back; ``ValueError`` when the bytes are not a qcow2 v2/v3 image."""
    if len(data) < 72 or data[:4] != MAGIC:
        raise ValueError("not a qcow2 image (bad magic)")
    version = struct.unpack_from(">I", data, 4)[0]
    if version not in (2, 3):
        raise ValueError(f"unsupported qcow2 version {version}")
    if version == 2:
        fields = struct.unpack_from(">4sIQIIQIIQQIIQ", data)
        refcount_order, header_length = 4, 72
    else:
        if len(data) < _HEADER.size:
            raise ValueError("truncated qcow2 v3 header")
        fields = _HEADER.unpack_from(data)
        refcount_order, header_length = fields[16], fields[17]
    extensions: dict[int, bytes] = {}
    offset = header_length
    while offset + 8 <= min(len(data), 1 << fields[4]):
        kind, length = struct.unpack_from(">II", data, offset)
        if kind == 0:
            break
        extensions[kind] = data[offset + 8 : offset + 8 + length]
        offset += 8 + length + (-length % 8)
    return Qcow2Header(
        version=version,
        cluster_bits=fields[4],
        virtual_size=fields[5],
        l1_size=fields[7],
        l1_table_offset=fields[8],
        refcount_table_offset=fields[9],
        refcount_table_clusters=fields[10],
        refcount_order=refcount_order,
        header_length=header_length,
        extensions=extensions,
    )
