"""The distribution catalog: built-in upstream images merged with the policy's overrides.

The built-in entries live in ``data/catalog.yaml`` (plain data, reviewed like code). A lab points
an entry at its own mirror, or adds a custom image, with the policy file's ``distributions:``
mapping; every key is optional for an existing entry and ``image_url``, ``checksum_url`` and
``checksum_algorithm`` are required for a new one. Errors name the key path.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from solti.provisioning.errors import ConfigError, NotFound
from solti.provisioning.models import config_error_from
from solti.provisioning.rules import normalize_tags

__all__ = ["Catalog", "CatalogEntry", "DistributionOverride", "import_filename"]

ChecksumAlgorithm = Literal["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
OsType = Literal[
    "l26", "l24", "other", "solaris", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8",
    "win10", "win11",
]  # fmt: skip
_IMPORT_NAME = re.compile(r"^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,39}$")
_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,19}$")
REQUIRED_FOR_NEW = ("image_url", "checksum_url", "checksum_algorithm")


def import_filename(image_url: str) -> str:
    """The name PVE's ``import`` storage gets: the URL's basename, ``.img`` -> ``.qcow2``.

    Ubuntu publishes qcow2 images named ``.img``; PVE's import content only takes ``.qcow2``,
    ``.raw``, ``.vmdk`` and ``.ova`` (pve-semantics.md, cloud-images.md).
    """
    name = posixpath.basename(urlsplit(image_url).path)
    if name.endswith(".img"):
        name = name[: -len(".img")] + ".qcow2"
    return name


def _check_release(value: str | None) -> str | None:
    """A release prefixes a date-only version (``12-20251120``), so it must not hold a ``-``."""
    if value is not None and not _RELEASE.match(value):
        raise ValueError(
            f"{value!r} is not a release; use letters, digits, '.' and '_' (like 12 or 24.04), "
            "at most 20 characters"
        )
    return value


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.strip("/"):
        raise ValueError(f"{value!r} is not an http(s) URL of a file")
    return value


class DistributionOverride(BaseModel):
    """One ``distributions:`` entry of the policy file; every key optional."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, description="One line shown in lists and menus.")
    image_url: str | None = Field(None, description="HTTP(S) URL of the cloud image.")
    checksum_url: str | None = Field(None, description="URL of the upstream checksum file.")
    checksum_algorithm: ChecksumAlgorithm | None = Field(
        None, description="Algorithm of the checksum file (sha256, sha512, ...)."
    )
    os_type: OsType | None = Field(None, description="PVE ostype; default l26.")
    tags: list[str] | None = Field(None, description="PVE tags put on templates.")
    ssh_user: str | None = Field(None, description="The image's default cloud-init user.")
    image_filename: str | None = Field(
        None, description="Name in the import storage; default: URL basename, .img -> .qcow2."
    )
    release: str | None = Field(
        None, description="Release shown before a date-only version (12 -> 12-20251120)."
    )
    guest_agent: bool | None = Field(
        None,
        description="Whether the image ships qemu-guest-agent, which reports a VM's address "
        "(default true; false for the Debian and Ubuntu cloud images, so nobody waits for it).",
    )

    _urls = field_validator("image_url", "checksum_url")(classmethod(lambda _, v: _check_url(v)))
    _release = field_validator("release")(classmethod(lambda _, v: _check_release(v)))


class CatalogEntry(BaseModel):
    """A complete, validated distribution entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    image_url: str
    checksum_url: str
    checksum_algorithm: ChecksumAlgorithm
    os_type: OsType = "l26"
    tags: list[str] = Field(default_factory=list)
    ssh_user: str | None = None
    image_filename: str = ""
    release: str | None = None
    guest_agent: bool = True

    _urls = field_validator("image_url", "checksum_url")(classmethod(lambda _, v: _check_url(v)))
    _release = field_validator("release")(classmethod(lambda _, v: _check_release(v)))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"{value!r} is not a distribution name; use lower-case letters, digits, '-' "
                "and '.', at most 40 characters"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        try:
            return normalize_tags(value)
        except Exception as exc:  # InvalidRequest -> a pydantic error naming the key
            raise ValueError(str(exc).removeprefix("tags: ")) from exc

    @model_validator(mode="after")
    def _filename(self) -> CatalogEntry:
        name = self.image_filename or import_filename(self.image_url)
        if not _IMPORT_NAME.match(name):
            raise ValueError(
                f"image_filename: {name!r} is not a PVE import file name; use letters, digits "
                "and - . + = _ ending in .qcow2, .raw, .vmdk or .ova"
            )
        object.__setattr__(self, "image_filename", name)
        return self


@functools.cache
def _builtin_parsed() -> dict[str, dict[str, Any]]:
    """``data/catalog.yaml`` parsed once per process, by libyaml when PyYAML has it.

    A create reads the catalog twice (policy check, then plan); the pure-Python parser took
    ~20 ms each time, most of the catalog's cost on the CLI's start-up path.
    """
    text = resources.files("solti.provisioning").joinpath("data/catalog.yaml").read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _builtin() -> dict[str, dict[str, Any]]:
    """A copy of the built-in entries that ``Catalog.load`` may change (one level deep: it
    replaces an entry's keys, never edits a value in place)."""
    return {name: dict(entry) for name, entry in _builtin_parsed().items()}


class Catalog:
    """Distributions by name; ``get`` raises ``NotFound`` listing the known names."""

    def __init__(self, entries: Mapping[str, CatalogEntry]) -> None:
        self._entries = dict(sorted(entries.items()))

    @classmethod
    def load(
        cls, overrides: Mapping[str, DistributionOverride | Mapping[str, Any]] | None = None
    ) -> Catalog:
        """Built-in entries merged with ``overrides`` (the policy's ``distributions``)."""
        raw = _builtin()
        for name, override in (overrides or {}).items():
            key = f"distributions.{name}"
            if isinstance(override, Mapping):
                try:
                    override = DistributionOverride.model_validate(override)
                except ValidationError as exc:
                    raise config_error_from(exc, DistributionOverride, key) from None
            given = override.model_dump(exclude_unset=True, exclude_none=True)
            if name not in raw:
                missing = [k for k in REQUIRED_FOR_NEW if k not in given]
                if missing:
                    raise ConfigError(
                        f"a new distribution needs {', '.join(missing)} "
                        f"(required for new entries: {', '.join(REQUIRED_FOR_NEW)})",
                        key=f"{key}.{missing[0]}",
                    )
                raw[name] = {}
            if "image_url" in given and "image_filename" not in given:
                raw[name].pop("image_filename", None)  # follow the new URL's basename
            raw[name].update(given)
        entries: dict[str, CatalogEntry] = {}
        for name, data in raw.items():
            try:
                entries[name] = CatalogEntry.model_validate({**data, "name": name})
            except ValidationError as exc:
                raise config_error_from(exc, CatalogEntry, f"distributions.{name}") from None
        return cls(entries)

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> CatalogEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise NotFound(
                f"unknown distribution {name!r}; the catalog knows {', '.join(self._entries)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
