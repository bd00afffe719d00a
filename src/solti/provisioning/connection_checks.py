"""The checks of a Proxmox VE connection's fields, one way for every cluster.

The ``PROXMOX_*`` connection (``proxmox_connection``) and each more cluster of the policy
(``cluster_policy``, ``clusters.NAME``) name a node's URL, an API token id and a CA bundle;
the same value must pass or fail (with the same sentence) in both places. ``CheckedConnection``
is the base of both models: it holds the field checks and ``verify``, each model its own
fields (names, aliases, descriptions). A leaf module (nothing of solti imported), so the
operator CLI's start-up path stays light.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, field_validator

__all__ = [
    "TOKEN_ID", "CheckedConnection", "check_ca_bundle", "check_token_id", "https_url", "tls_verify",
]  # fmt: skip

TOKEN_ID = re.compile(r"^[^\s@!:]+@[A-Za-z][A-Za-z0-9.\-_]*![A-Za-z][A-Za-z0-9.\-_]+$")


def https_url(value: str) -> str:
    """``https://host[:port]`` without a path, trailing slash removed (as ``PROXMOX_URL``)."""
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not https://host[:port], e.g. https://pve1:8006")
    if parts.path.strip("/") or parts.query:
        raise ValueError(f"{value!r} has a path; give only https://host[:port]")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{value!r} has a bad port; use 1-65535") from None
    return value.strip().rstrip("/")


def check_token_id(value: str) -> str:
    """An API token id, ``user@realm!tokenname``, surrounding blanks removed."""
    if not TOKEN_ID.match(value.strip()):
        raise ValueError(f"{value!r} is not user@realm!tokenname, e.g. root@pam!solti")
    return value.strip()


def check_ca_bundle(value: Path | None) -> Path | None:
    """A CA bundle that is a file (or none)."""
    if value is not None and not value.is_file():
        raise ValueError(f"{str(value)!r} is not a readable file")
    return value


def tls_verify(verify_ssl: bool, ca_bundle: Path | None) -> bool | str:
    """What requests/proxmoxer take as ``verify``: the CA bundle path, else the flag."""
    if verify_ssl and ca_bundle is not None:
        return str(ca_bundle)
    return verify_ssl


class CheckedConnection(BaseModel):
    """The checks of the fields ``url``, ``token_id`` and ``ca_bundle`` and the ``verify``
    value, for a model that declares them (with ``verify_ssl``)."""

    if TYPE_CHECKING:  # declared by each model, with its own aliases and descriptions
        verify_ssl: bool
        ca_bundle: Path | None

    @field_validator("url", check_fields=False)
    @classmethod
    def _url(cls, value: str) -> str:
        return https_url(value)

    @field_validator("token_id", check_fields=False)
    @classmethod
    def _token_id(cls, value: str) -> str:
        return check_token_id(value)

    @field_validator("ca_bundle", check_fields=False)
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        return check_ca_bundle(value)

    @property
    def verify(self) -> bool | str:
        """What requests/proxmoxer take as ``verify``: the CA bundle path, else the flag."""
        return tls_verify(self.verify_ssl, self.ca_bundle)
