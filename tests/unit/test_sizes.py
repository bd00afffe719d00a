"""Sizes: parsing as people type them, formatting as PVE's format_size prints them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from solti.provisioning.sizes import Size, SizeError, format_size, parse_size

K, M, G, T = 1024, 1024**2, 1024**3, 1024**4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32G", 32 * G),
        ("512M", 512 * M),
        ("1T", T),
        ("1.5G", 1536 * M),
        ("4k", 4 * K),
        ("20GiB", 20 * G),
        ("20GB", 20 * G),
        (" 8 G ", 8 * G),
        ("1048576", M),
        (1234, 1234),
        ("0", 0),
    ],
)
def test_parse(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected
    assert Size(text).bytes == expected


@pytest.mark.parametrize("text", ["32X", "", "G", "-1G", "1,5G", "ten", "0.3K", "1e3"])
def test_parse_rejects_with_a_hint(text: str) -> None:
    with pytest.raises(SizeError, match=r"K, M, G or T"):
        parse_size(text)


@pytest.mark.parametrize("value", [-1, True, 1.5, None])
def test_parse_rejects_non_sizes(value: object) -> None:
    with pytest.raises(SizeError):
        parse_size(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (32 * G, "32G"),
        (3584 * M, "3584M"),
        (528 * K, "528K"),
        (4 * M, "4M"),
        (2 * T, "2T"),
        (1536 * G, "1536G"),
        (1000, "1000"),
        (M + 1, str(M + 1)),
        (0, "0"),
    ],
)
def test_format_like_pve(size: int, text: str) -> None:
    assert format_size(size) == text
    assert str(Size(size)) == text


def test_from_pve_and_compare() -> None:
    assert Size.from_pve("3584M") == Size("3.5G")
    assert Size("10G") < Size("20G") <= Size("20G") < Size("1T")
    assert Size("32G") > Size("20G")
    assert sorted([Size("1T"), Size("512M"), Size("32G")]) == [
        Size("512M"),
        Size("32G"),
        Size("1T"),
    ]
    assert len({Size("1024M"), Size("1G")}) == 1
    assert Size.gib(3) == Size("3G")
    assert Size("3.5G").gib_ceil == 4
    assert Size("3G").gib_ceil == 3


def test_immutable() -> None:
    size = Size("1G")
    with pytest.raises(AttributeError):
        size._bytes = 5  # type: ignore[misc]


class _Holder(BaseModel):
    disk: Size
    other: Size | None = None


def test_pydantic_field_validates_from_text_and_serialises_as_pve() -> None:
    holder = _Holder.model_validate({"disk": "1.5G", "other": 1024})
    assert holder.disk == Size(1536 * M)
    assert holder.model_dump() == {"disk": "1536M", "other": "1K"}
    assert _Holder.model_validate_json(holder.model_dump_json()) == holder
    with pytest.raises(ValidationError, match="is not a size"):
        _Holder.model_validate({"disk": "32X"})
    assert _Holder.model_json_schema()["properties"]["disk"]["type"] == "string"


@given(st.integers(min_value=0, max_value=2**50))
def test_format_then_parse_round_trips(size: int) -> None:
    assert parse_size(format_size(size)) == size


@given(st.integers(min_value=1, max_value=4096), st.sampled_from(["K", "M", "G", "T"]))
def test_unit_arithmetic(count: int, unit: str) -> None:
    factor = {"K": K, "M": M, "G": G, "T": T}[unit]
    assert Size(f"{count}{unit}").bytes == count * factor
    # the printed unit is never smaller than the typed one
    assert Size(f"{count}{unit}").pve().endswith(("K", "M", "G", "T"))


@given(st.integers(min_value=0, max_value=2**45), st.integers(min_value=0, max_value=2**45))
def test_ordering_matches_bytes(a: int, b: int) -> None:
    assert (Size(a) < Size(b)) == (a < b)
    assert (Size(a) == Size(b)) == (a == b)
