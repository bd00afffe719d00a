"""The checksum parser against the real upstream lines quoted in cloud-images.md."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solti.provisioning.checksums import (
    ALGORITHM_HEX_LENGTH,
    ChecksumError,
    ImageNotListed,
    find_image,
    parse_checksum_file,
    resolve_version,
    version_from_last_modified,
    version_from_url,
)
from solti.provisioning.errors import NotFound, SoltiError

ROCKY_97_HASH = "15d81d3434b298142b2fdd8fb54aef2662684db5c082cc191c3c79762ed6360c"
ROCKY_97_DATED = "Rocky-9-GenericCloud-Base-9.7-20251123.2.x86_64.qcow2"
ROCKY_97_LATEST = "Rocky-9-GenericCloud-Base.latest.x86_64.qcow2"
ROCKY_97 = (
    f"# {ROCKY_97_DATED}: 648806400 bytes\n"
    f"SHA256 ({ROCKY_97_DATED}) = {ROCKY_97_HASH}\n"
    f"# {ROCKY_97_LATEST}: 648806400 bytes\n"
    f"SHA256 ({ROCKY_97_LATEST}) = {ROCKY_97_HASH}\n"
)

ROCKY_2022 = (
    "Rocky-9-GenericCloud-9.0-20220706.0.x86_64.qcow2: 1577123840 bytes\n"
    "SHA256 (Rocky-9-GenericCloud-9.0-20220706.0.x86_64.qcow2) = "
    "9305faad09707ab72ec8e4a7b2cdc8e20bc31b608443d6c6df954fd2f3371aa2\n"
)

DEBIAN = (
    "a58d86525d75fd8e139a2302531ce5d2ab75ef0273cfe78f9d53aada4b23efd45f8433b4806fa4570cfe981c8fae26"
    "f5e5e855cbd66ba2198862f28125fd2d45  debian-12-genericcloud-amd64-20250210-2019.qcow2\n"
    "d2fbcf11fb28795842e91364d8c7b69f1870db09ff299eb94e4fbbfa510eb78d141e74c1f4bf6dfa0b7e33d0c3b66e"
    "6751886feadb4e9916f778bab1776bdf1b  debian-12-generic-amd64-20231228-1609.qcow2\n"
)

UBUNTU = (
    "6e3ce31fe3a5523023650ba988c12d5fc2544bd0a95f435474841e2dec5836d9"
    " *ubuntu-20.04-server-cloudimg-amd64.img\n"
    "f5d311aad28742200fabb183a8af42292ad4f22c941a4371b736c82089bf67ee"
    " *jammy-server-cloudimg-amd64.img\n"
)

ALMA_HASH = "5ff9c048859046f41db4a33b1f1a96675711288078aac66b47d0be023af270d1"
ALMA = (
    f"{ALMA_HASH}  AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2\n"
    f"{ALMA_HASH}  AlmaLinux-9-GenericCloud-latest.x86_64.qcow2\n"
)

FEDORA = (
    "-----BEGIN PGP SIGNED MESSAGE-----\n"
    "Hash: SHA256\n"
    "\n"
    "# Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2: 528154624 bytes\n"
    "SHA256 (Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2) = "
    "55c60a3b80d3616a08705afd0459e75fe9f03c54aba7a46e4002a41a72fa0d5b\n"
    "- # a dash-escaped comment\n"
    "-----BEGIN PGP SIGNATURE-----\n"
    "\n"
    "iQIzBAEBCAAdFiEE\n"
    "-----END PGP SIGNATURE-----\n"
)


def test_rocky_bsd_with_size_comments() -> None:
    parsed = parse_checksum_file(ROCKY_97, source="rocky/CHECKSUM")
    assert len(parsed) == 2
    entry = find_image(parsed, "Rocky-9-GenericCloud-Base.latest.x86_64.qcow2", "sha256")
    assert entry.hexdigest == ROCKY_97_HASH
    assert entry.algorithm == "sha256"
    assert entry.size == 648806400
    assert entry.line == 4
    assert resolve_version(parsed, entry) == "9.7-20251123.2"


def test_rocky_2022_size_line_without_hash_mark() -> None:
    parsed = parse_checksum_file(ROCKY_2022)
    (entry,) = parsed.entries
    assert entry.size == 1577123840
    assert entry.filename == "Rocky-9-GenericCloud-9.0-20220706.0.x86_64.qcow2"


def test_find_image_by_url_matches_basename() -> None:
    parsed = parse_checksum_file(ROCKY_97)
    url = "https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud-Base.latest.x86_64.qcow2"
    assert find_image(parsed, url).hexdigest == ROCKY_97_HASH


def test_debian_gnu_sha512() -> None:
    parsed = parse_checksum_file(DEBIAN)
    entry = find_image(parsed, "debian-12-genericcloud-amd64-20250210-2019.qcow2", "sha512")
    assert entry.algorithm == "sha512"
    assert entry.hexdigest.startswith("a58d86525d75")
    assert len(entry.hexdigest) == 128
    assert entry.size is None
    assert resolve_version(parsed, entry) is None


def test_ubuntu_binary_mode() -> None:
    parsed = parse_checksum_file(UBUNTU)
    entry = find_image(parsed, "jammy-server-cloudimg-amd64.img", "SHA256")
    assert entry.hexdigest == "f5d311aad28742200fabb183a8af42292ad4f22c941a4371b736c82089bf67ee"
    assert entry.filename == "jammy-server-cloudimg-amd64.img"


def test_almalinux_gnu_latest_twin() -> None:
    parsed = parse_checksum_file(ALMA)
    entry = find_image(parsed, "AlmaLinux-9-GenericCloud-latest.x86_64.qcow2")
    assert resolve_version(parsed, entry) == "9.7-20251118"


@pytest.mark.parametrize(
    ("latest", "dated", "version"),
    [
        (
            "Rocky-9-GenericCloud-Base.latest.x86_64.qcow2",
            "Rocky-9-GenericCloud-Base-9.7-20251123.2.x86_64.qcow2",
            "9.7-20251123.2",
        ),
        (
            "AlmaLinux-10-GenericCloud-latest.x86_64.qcow2",
            "AlmaLinux-10-GenericCloud-10.2-20260526.0.x86_64.qcow2",
            "10.2-20260526.0",
        ),
        (
            "CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2",
            "CentOS-Stream-GenericCloud-9-20251117.0.x86_64.qcow2",
            "9-20251117.0",
        ),
    ],
)
def test_resolve_version_from_dated_twin(latest: str, dated: str, version: str) -> None:
    digest = "ab" * 32
    text = f"SHA256 ({dated}) = {digest}\nSHA256 ({latest}) = {digest}\n"
    parsed = parse_checksum_file(text)
    assert resolve_version(parsed, find_image(parsed, latest)) == version


def test_resolve_version_ignores_alias_and_other_hashes() -> None:
    digest, other = "ab" * 32, "cd" * 32
    text = (
        f"SHA256 (Rocky-9-GenericCloud.latest.x86_64.qcow2) = {digest}\n"
        f"SHA256 (Rocky-9-GenericCloud-Base-9.6-20250101.0.x86_64.qcow2) = {other}\n"
        f"SHA256 (Rocky-9-GenericCloud-Base.latest.x86_64.qcow2) = {digest}\n"
    )
    parsed = parse_checksum_file(text)
    assert (
        resolve_version(parsed, find_image(parsed, "Rocky-9-GenericCloud-Base.latest.x86_64.qcow2"))
        is None
    )


def test_centos_stream_bsd_layout() -> None:
    text = (
        "SHA256 (CentOS-Stream-GenericCloud-9-20260119.0.x86_64.qcow2) = "
        "4754fa55d85b3a487651f18940b389cef055d1436432dd01b1d059d0b879f141\n"
    )
    entry = find_image(
        parse_checksum_file(text), "CentOS-Stream-GenericCloud-9-20260119.0.x86_64.qcow2"
    )
    assert entry.hexdigest.startswith("4754fa55")


def test_fedora_clearsigned_strips_armour_and_dash_escapes() -> None:
    parsed = parse_checksum_file(FEDORA, source="Fedora-CHECKSUM")
    assert parsed.signed is True
    (entry,) = parsed.entries
    assert entry.size == 528154624
    assert entry.line == 5
    assert entry.hexdigest.startswith("55c60a3b")


def test_clearsigned_without_signature_is_an_error() -> None:
    truncated = FEDORA.split("-----BEGIN PGP SIGNATURE-----")[0]
    with pytest.raises(ChecksumError, match="BEGIN PGP SIGNATURE"):
        parse_checksum_file(truncated)


def test_dot_slash_prefix_and_uppercase_hex() -> None:
    parsed = parse_checksum_file(
        "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789  ./img.qcow2\n"
    )
    entry = find_image(parsed, "img.qcow2")
    assert entry.filename == "img.qcow2"
    assert entry.hexdigest == "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"


def test_bare_digest_sidecar() -> None:
    parsed = parse_checksum_file("ab" * 32 + "\n")
    assert (
        find_image(parsed, "openSUSE-Leap-15.6-Minimal-VM.x86_64-Cloud.qcow2").algorithm == "sha256"
    )


def test_malformed_line_names_file_and_line() -> None:
    text = ROCKY_97 + "this is not a checksum\n"
    with pytest.raises(ChecksumError) as info:
        parse_checksum_file(text, source="https://mirror/CHECKSUM")
    assert info.value.line == 5
    assert "https://mirror/CHECKSUM, line 5" in str(info.value)
    assert "not a checksum line" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SoltiError)


def test_bsd_tag_with_wrong_hex_length() -> None:
    with pytest.raises(
        ChecksumError, match="line 1: sha256 digest must have 64 hex characters, found 62"
    ):
        parse_checksum_file("SHA256 (x.qcow2) = " + "a" * 62)


def test_gnu_digest_of_no_known_length() -> None:
    with pytest.raises(ChecksumError, match="50 hex characters matches no algorithm"):
        parse_checksum_file("a" * 50 + "  x.qcow2")


def test_empty_file_is_an_error() -> None:
    with pytest.raises(ChecksumError, match="no checksum lines"):
        parse_checksum_file("# only a comment\n\n")


def test_missing_image_lists_what_is_there() -> None:
    with pytest.raises(ImageNotListed) as info:
        find_image(parse_checksum_file(UBUNTU), "noble-server-cloudimg-amd64.img")
    assert isinstance(info.value, NotFound)
    assert "jammy-server-cloudimg-amd64.img" in str(info.value)


def test_exact_basename_only() -> None:
    with pytest.raises(ImageNotListed):
        find_image(parse_checksum_file(UBUNTU), "server-cloudimg-amd64.img")


def test_wrong_algorithm_for_the_line() -> None:
    with pytest.raises(ChecksumError, match=r"is sha256 .* but sha512"):
        find_image(parse_checksum_file(UBUNTU), "jammy-server-cloudimg-amd64.img", "sha512")


def test_unknown_algorithm() -> None:
    with pytest.raises(ChecksumError, match="unknown checksum algorithm 'crc32'"):
        find_image(parse_checksum_file(UBUNTU), "jammy-server-cloudimg-amd64.img", "crc32")


def test_conflicting_duplicates() -> None:
    text = f"{'a' * 64}  x.qcow2\n{'b' * 64}  x.qcow2\n"
    with pytest.raises(ChecksumError, match=r"conflicting checksums for 'x\.qcow2' on lines 1, 2"):
        find_image(parse_checksum_file(text), "x.qcow2")


@pytest.mark.parametrize(
    ("url", "version"),
    [
        (
            "https://cloud.debian.org/images/cloud/bookworm/20250210-2019/debian-12-genericcloud-amd64-20250210-2019.qcow2",
            "20250210-2019",
        ),
        (
            "https://cloud-images.ubuntu.com/jammy/20260119/jammy-server-cloudimg-amd64.img",
            "20260119",
        ),
        ("https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img", None),
        ("https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS", None),
    ],
)
def test_version_from_url(url: str, version: str | None) -> None:
    assert version_from_url(url) == version


@pytest.mark.parametrize(
    ("header", "release", "version"),
    [
        ("Thu, 20 Nov 2025 03:14:15 GMT", "12", "12-20251120"),
        ("Thu, 20 Nov 2025 03:14:15 GMT", None, "20251120"),
        ("Mon, 19 Jan 2026 23:59:59 GMT", "22.04", "22.04-20260119"),
        # A server in another zone: the date is the UTC one, the next day here.
        ("Thu, 20 Nov 2025 23:30:00 -0200", "24.04", "24.04-20251121"),
        (None, "12", None),
        ("", "12", None),
        ("yesterday", "12", None),
        ("Thu, 99 Nov 2025 03:14:15 GMT", "12", None),
    ],
)
def test_version_from_last_modified(
    header: str | None, release: str | None, version: str | None
) -> None:
    assert version_from_last_modified(header, release) == version


# --- round trips ------------------------------------------------------------------------------

_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,40}", fullmatch=True)


@st.composite
def _entries(draw: st.DrawFn) -> list[tuple[str, str, str, int | None]]:
    names = draw(st.lists(_names, min_size=1, max_size=6, unique=True))
    out = []
    for name in names:
        algorithm = draw(st.sampled_from(sorted(ALGORITHM_HEX_LENGTH)))
        digest = draw(
            st.text(
                "0123456789abcdef",
                min_size=ALGORITHM_HEX_LENGTH[algorithm],
                max_size=ALGORITHM_HEX_LENGTH[algorithm],
            )
        )
        size = draw(st.none() | st.integers(min_value=0, max_value=2**40))
        out.append((name, algorithm, digest, size))
    return out


def _render(entries: list[tuple[str, str, str, int | None]], style: str) -> str:
    lines = []
    for name, algorithm, digest, size in entries:
        if size is not None:
            lines.append(f"# {name}: {size} bytes")
        if style == "bsd":
            lines.append(f"{algorithm.upper()} ({name}) = {digest}")
        elif style == "gnu":
            lines.append(f"{digest.upper()}  ./{name}")
        else:
            lines.append(f"{digest} *{name}")
    return "\n".join(lines) + "\n"


@given(_entries(), st.sampled_from(["bsd", "gnu", "binary"]), st.booleans())
def test_round_trip(
    entries: list[tuple[str, str, str, int | None]], style: str, signed: bool
) -> None:
    text = _render(entries, style)
    if signed:
        escaped = "\n".join(
            f"- {line}" if line.startswith(("-", "#")) else line for line in text.splitlines()
        )
        text = (
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
            f"{escaped}\n-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n"
        )
    parsed = parse_checksum_file(text)
    assert parsed.signed is signed
    assert len(parsed) == len(entries)
    for name, algorithm, digest, size in entries:
        entry = find_image(parsed, name, algorithm)
        assert (entry.filename, entry.hexdigest, entry.algorithm, entry.size) == (
            name,
            digest,
            algorithm,
            size,
        )
