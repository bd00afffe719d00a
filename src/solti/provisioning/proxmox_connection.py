"""``ProxmoxConnection``: how to reach Proxmox VE, its fields and checks, without a source.

``proxmox_settings.ProxmoxSettings`` reads it through pydantic-settings;
``config.proxmox_from_env`` reads it from the environment alone (no pydantic-settings, for
the operator CLI's start-up). Its checks are ``connection_checks`` (shared with each
``clusters.NAME``); no other module, so neither of them imports the other.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, SecretStr

from solti.provisioning.connection_checks import CheckedConnection

__all__ = ["DEFAULT_PVE_PORT", "ProxmoxConnection"]

DEFAULT_PVE_PORT = 8006


class ProxmoxConnection(CheckedConnection):
    """How to reach Proxmox VE (``PROXMOX_*``); the secret stays a ``SecretStr``.

    The fields and their checks, without a settings source: ``ProxmoxSettings``
    (``proxmox_settings``) is this read through pydantic-settings with
    ``ProxmoxSettings.from_env()`` (the environment, ``SOLTI_ENV_FILE`` and the secrets
    directory, ``/run/secrets/proxmox_token_secret``; see ``settings_sources``), and
    ``proxmox_from_env`` reads the same from the environment alone when no file source is
    named, without loading pydantic-settings (start-up figures in docs/performance.md).
    """

    model_config = ConfigDict(extra="ignore")

    url: str = Field(
        validation_alias="PROXMOX_URL",
        description="https://host[:port] of a PVE node; the port defaults to 8006.",
    )
    token_id: str = Field(
        validation_alias="PROXMOX_TOKEN_ID",
        description="API token id, user@realm!name (e.g. root@pam!solti).",
    )
    token_secret: SecretStr = Field(
        validation_alias="PROXMOX_TOKEN_SECRET", description="API token secret (a UUID)."
    )
    verify_ssl: bool = Field(
        True,
        validation_alias="PROXMOX_VERIFY_SSL",
        description="Verify the node's TLS certificate.",
    )
    ca_bundle: Path | None = Field(
        None,
        validation_alias="PROXMOX_CA_BUNDLE",
        description="PEM file of the CA that signed the node.",
    )

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or DEFAULT_PVE_PORT
