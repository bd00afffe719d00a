"""Upstream checksum files: parse every format the catalog meets, pick the image's line.

Distributions publish digests in four shapes (see ``docs/reference/cloud-images.md``): BSD
tags (Rocky, CentOS Stream, Fedora), GNU text mode (AlmaLinux, Debian), GNU binary mode
(Ubuntu) and any of those inside a PGP clear-signed message (Fedora). A template build trusts
the digest it finds here to let Proxmox verify the download, so the parser is strict: a line it
does not understand is an error naming the file and line, never silently skipped.

Everything here is pure (text in, values out) so it is tested without servers.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

from solti.provisioning.errors import NotFound, SoltiError

__all__ = [
    "ALGORITHM_HEX_LENGTH",
    "ChecksumEntry",
    "ChecksumError",
    "ChecksumFile",
    "ImageNotListed",
    "algorithm_for_length",
    "find_image",
    "parse_checksum_file",
    "resolve_version",
    "version_from_last_modified",
    "version_from_url",
]

# Names as Proxmox VE's ``checksum-algorithm`` enum spells them.
ALGORITHM_HEX_LENGTH: dict[str, int] = {
    "md5": 32,
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
}
_LENGTH_ALGORITHM = {length: name for name, length in ALGORITHM_HEX_LENGTH.items()}

_BSD_LINE = re.compile(r"^(MD5|SHA1|SHA224|SHA256|SHA384|SHA512) ?\((.+)\) ?= ?([0-9A-Fa-f]+)$")
_GNU_LINE = re.compile(r"^\\?([0-9A-Fa-f]{32,128}) [ *](.+)$")
_BARE_DIGEST = re.compile(r"^([0-9A-Fa-f]{32,128})$")
_SIZE_LINE = re.compile(r"^#?\s*(.+?): (\d+) bytes$")

_PGP_BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----"
_PGP_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"


class ChecksumError(SoltiError, ValueError):
    """A checksum file is malformed or does not vouch for the image asked about.

    ``source`` names the file (usually its URL) and ``line`` the 1-based line number, when the
    problem sits on one line, so an operator can open the file and look.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


class ImageNotListed(ChecksumError, NotFound):
    """The checksum file parsed but holds no line for the image."""


@dataclass(frozen=True)
class ChecksumEntry:
    """One digest line: ``hexdigest`` is lower-case; ``filename`` is None for a bare digest."""

    filename: str | None
    hexdigest: str
    algorithm: str
    size: int | None = None
    line: int = 0

    @property
    def basename(self) -> str | None:
        """The name without directories, which is what image URLs are matched on."""
        return posixpath.basename(self.filename) if self.filename is not None else None


@dataclass(frozen=True)
class ChecksumFile:
    """A parsed checksum file; ``signed`` says it came inside a PGP clear-signed message."""

    entries: tuple[ChecksumEntry, ...]
    source: str = "checksum file"
    signed: bool = False

    def __iter__(self) -> Iterator[ChecksumEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def algorithm_for_length(length: int) -> str | None:
    """The algorithm a hex digest of this length belongs to (the osism rule), or None."""
    return _LENGTH_ALGORITHM.get(length)


def _unarmour(lines: list[str], source: str) -> tuple[list[tuple[int, str]], bool]:
    """Numbered lines of the signed text, armour and dash-escaping removed.

    Line numbers stay those of the original file so errors point at what a person sees.
    """
    numbered = list(enumerate(lines, start=1))
    first = next((i for i, (_, text) in enumerate(numbered) if text.strip()), None)
    if first is None or numbered[first][1].strip() != _PGP_BEGIN:
        return numbered, False
    # Armour headers (``Hash: SHA256``) run until the first empty line (RFC 4880 §7).
    body_start = None
    for i in range(first + 1, len(numbered)):
        if not numbered[i][1].strip():
            body_start = i + 1
            break
    if body_start is None:
        raise ChecksumError(
            "PGP clear-signed message has no blank line after its headers", source=source
        )
    body: list[tuple[int, str]] = []
    for number, text in numbered[body_start:]:
        if text.strip() == _PGP_SIGNATURE:
            return body, True
        body.append((number, text[2:] if text.startswith("- ") else text))
    raise ChecksumError(
        f"PGP clear-signed message has no {_PGP_SIGNATURE!r} line (truncated download?)",
        source=source,
    )


def _check_length(hexdigest: str, algorithm: str, *, source: str, line: int) -> None:
    expected = ALGORITHM_HEX_LENGTH[algorithm]
    if len(hexdigest) != expected:
        raise ChecksumError(
            f"{algorithm} digest must have {expected} hex characters, found {len(hexdigest)}",
            source=source,
            line=line,
        )


def _clean_name(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def parse_checksum_file(text: str, source: str = "checksum file") -> ChecksumFile:
    """Parse BSD, GNU (text or ``*`` binary mode) or clear-signed checksum text.

    ``source`` (usually the URL) is only used in error messages. Size lines
    (``# <file>: <n> bytes``, with or without ``#``) become ``ChecksumEntry.size``.
    Raises ``ChecksumError`` for an unreadable line or a file with no digest at all.
    """
    lines, signed = _unarmour(text.splitlines(), source)
    sizes: dict[str, int] = {}
    found: list[ChecksumEntry] = []
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        size = _SIZE_LINE.match(line)
        if size:
            sizes[_clean_name(size.group(1).strip())] = int(size.group(2))
            continue
        if line.startswith("#"):
            continue
        bsd = _BSD_LINE.match(line)
        if bsd:
            algorithm = bsd.group(1).lower()
            digest = bsd.group(3).lower()
            _check_length(digest, algorithm, source=source, line=number)
            found.append(ChecksumEntry(_clean_name(bsd.group(2)), digest, algorithm, line=number))
            continue
        gnu = _GNU_LINE.match(line) or _BARE_DIGEST.match(line)
        if gnu:
            digest = gnu.group(1).lower()
            algorithm = algorithm_for_length(len(digest))
            if algorithm is None:
                raise ChecksumError(
                    f"a digest of {len(digest)} hex characters matches no algorithm "
                    f"(expected one of {sorted(set(ALGORITHM_HEX_LENGTH.values()))})",
                    source=source,
                    line=number,
                )
            name = _clean_name(gnu.group(2)) if gnu.re is _GNU_LINE else None
            found.append(ChecksumEntry(name, digest, algorithm, line=number))
            continue
        shown = line if len(line) <= 80 else line[:77] + "..."
        raise ChecksumError(
            f"not a checksum line: {shown!r} (expected 'SHA256 (<file>) = <hex>', "
            "'<hex>  <file>' or '<hex> *<file>')",
            source=source,
            line=number,
        )
    if not found:
        raise ChecksumError("no checksum lines found", source=source)
    entries = tuple(
        ChecksumEntry(e.filename, e.hexdigest, e.algorithm, sizes.get(e.filename or ""), e.line)
        for e in found
    )
    return ChecksumFile(entries, source=source, signed=signed)


def _basename_of(image: str) -> str:
    """The file name of an image URL or path (query and fragment dropped)."""
    path = urlsplit(image).path if "://" in image else image
    return posixpath.basename(unquote(path))


def find_image(
    checksums: ChecksumFile, image_filename: str, algorithm: str | None = None
) -> ChecksumEntry:
    """The line for ``image_filename`` (a name or a URL), matched on the exact basename.

    With ``algorithm`` (as configured in the catalog) a line of another algorithm is an error,
    not a silent fallback: sending PVE a digest of the wrong kind fails later and less clearly.
    A file holding a single bare digest (openSUSE sidecars) vouches for whatever it sits next to.
    """
    wanted = _basename_of(image_filename)
    if algorithm is not None:
        algorithm = algorithm.lower()
        if algorithm not in ALGORITHM_HEX_LENGTH:
            raise ChecksumError(
                f"unknown checksum algorithm {algorithm!r}; allowed: "
                + ", ".join(ALGORITHM_HEX_LENGTH),
                source=checksums.source,
            )
    matches = [e for e in checksums.entries if e.basename == wanted]
    if not matches and len(checksums.entries) == 1 and checksums.entries[0].filename is None:
        matches = list(checksums.entries)
    if not matches:
        names = [e.basename for e in checksums.entries if e.basename]
        hint = (
            f"; it lists {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}" if names else ""
        )
        raise ImageNotListed(f"no checksum for {wanted!r}{hint}", source=checksums.source)
    if algorithm is not None:
        same = [e for e in matches if e.algorithm == algorithm]
        if not same:
            first = matches[0]
            raise ChecksumError(
                f"the checksum for {wanted!r} is {first.algorithm} "
                f"({len(first.hexdigest)} hex characters), but {algorithm} "
                f"({ALGORITHM_HEX_LENGTH[algorithm]}) is configured",
                source=checksums.source,
                line=first.line,
            )
        matches = same
    if len({e.hexdigest for e in matches}) > 1:
        lines = ", ".join(str(e.line) for e in matches)
        raise ChecksumError(
            f"conflicting checksums for {wanted!r} on lines {lines}", source=checksums.source
        )
    return matches[0]


_TOKEN = re.compile(r"[^-.]+|[-.]")


def _tokens(name: str) -> list[str]:
    return _TOKEN.findall(name)


def _dated_version(latest: str, dated: str) -> str | None:
    """The trailing run of numeric tokens of ``dated`` before the suffix both names share.

    ``Rocky-9-GenericCloud-Base.latest.x86_64.qcow2`` against
    ``Rocky-9-GenericCloud-Base-9.7-20251123.2.x86_64.qcow2`` gives ``9.7-20251123.2``.
    """
    a, b = _tokens(latest), _tokens(dated)
    common = 0
    while common < min(len(a), len(b)) and a[-1 - common] == b[-1 - common]:
        common += 1
    head = b[: len(b) - common]
    while head and not head[-1].isdigit():
        if head[-1] in "-.":
            head.pop()
        else:
            return None
    start = len(head)
    while start > 0 and (head[start - 1].isdigit() or head[start - 1] in "-."):
        start -= 1
    while start < len(head) and head[start] in "-.":
        start += 1
    version = "".join(head[start:])
    return version or None


def resolve_version(checksums: ChecksumFile, entry: ChecksumEntry) -> str | None:
    """The human version of a ``latest`` image, from the dated twin sharing its digest.

    Rocky, AlmaLinux and CentOS Stream list both names with one hash. Debian and Ubuntu do not
    (their version is the dated directory; see ``version_from_url``), so this returns None.
    """
    if entry.basename is None:
        return None
    twins: Iterable[ChecksumEntry] = (
        e
        for e in checksums.entries
        if e.hexdigest == entry.hexdigest
        and e.algorithm == entry.algorithm
        and e.basename not in (None, entry.basename)
    )
    versions = sorted(
        {v for t in twins if (v := _dated_version(entry.basename, t.basename or ""))},
        key=lambda v: (-len(v), v),
    )
    return versions[0] if versions else None


_DATED_SEGMENT = re.compile(r"^(?:release-)?(\d{8}(?:[-.]\d+)?)$")


def version_from_url(url: str) -> str | None:
    """The build from a dated directory (Debian ``20250210-2019/``, Ubuntu ``20260119/``)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments[:-1]):
        match = _DATED_SEGMENT.match(segment)
        if match:
            return match.group(1)
    return None


def version_from_last_modified(value: str | None, release: str | None = None) -> str | None:
    """The build date an image's HTTP ``Last-Modified`` gives: ``YYYYMMDD`` (UTC).

    Debian's ``latest/`` and Ubuntu's ``current/`` list only undated names, so neither a dated
    twin nor the URL says which build ``latest`` is; the file's modification time is the build
    date. With the catalog's ``release`` the version reads ``<release>-<YYYYMMDD>``
    (``12-20251120``), the same shape as the twinned distributions' ``9.7-20251123.2``.
    A missing or unparsable header gives None: a date we made up is worse than "unknown".
    """
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    day = when.strftime("%Y%m%d")
    return f"{release}-{day}" if release else day
