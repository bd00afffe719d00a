"""The qcow2 writer produces headers a qcow2 reader accepts, with the asked virtual size."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solti.sandbox.mirror.qcow2 import MAGIC, PAYLOAD_EXTENSION, build_image, parse_header

GiB = 1024**3


def test_header_fields_at_their_spec_offsets() -> None:
    image = build_image(10 * GiB, "rocky9/9.7")
    assert image[:4] == MAGIC
    assert struct.unpack(">I", image[4:8])[0] == 3
    assert struct.unpack(">I", image[20:24])[0] == 16  # cluster_bits
    assert struct.unpack(">Q", image[24:32])[0] == 10 * GiB
    assert struct.unpack(">I", image[32:36])[0] == 0  # no encryption
    assert struct.unpack(">I", image[100:104])[0] == 104  # header_length


def test_tables_are_where_the_header_says() -> None:
    image = build_image(10 * GiB, "seed")
    header = parse_header(image)
    # 10 GiB / (64 KiB clusters * 8192 entries per L2 table) = 20 L1 entries.
    assert header.l1_size == 20
    assert header.l1_table_offset % (1 << header.cluster_bits) == 0
    assert len(image) >= header.l1_table_offset + header.l1_size * 8
    assert image[header.l1_table_offset :] == bytes(header.l1_size * 8)
    # The refcount table points at a block that counts the four metadata clusters once each.
    block = struct.unpack_from(">Q", image, header.refcount_table_offset)[0]
    counts = struct.unpack_from(">5H", image, block)
    assert counts == (1, 1, 1, 1, 0)
    assert header.refcount_order == 4


def test_payload_makes_distinct_deterministic_images() -> None:
    a1, a2, b = build_image(GiB, "a"), build_image(GiB, "a"), build_image(GiB, "b")
    assert a1 == a2
    assert a1 != b
    assert len(parse_header(a1).extensions[PAYLOAD_EXTENSION]) == 4096


@given(st.integers(min_value=1, max_value=2**22).map(lambda n: n * 512 * 1024))
def test_virtual_size_round_trips(size: int) -> None:
    assert parse_header(build_image(size, "x", payload_size=16)).virtual_size == size


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="multiple of 512"):
        build_image(1000, "x")
    with pytest.raises(ValueError, match="bad magic"):
        parse_header(b"\0" * 200)
