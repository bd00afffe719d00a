"""``ProxmoxSettings``: the Proxmox connection read through pydantic-settings sources.

The fields and their checks are ``proxmox_connection.ProxmoxConnection``; this adds the sources
(``settings_sources.EnvironmentSettings``: the environment, ``SOLTI_ENV_FILE``, the secrets
directory) and ``from_env``. It is a module of its own because pydantic-settings costs the
operator CLI ~50 ms of start-up, which ``config.proxmox_from_env`` avoids when the
environment is the only source.
"""

from __future__ import annotations

from solti.provisioning.proxmox_connection import ProxmoxConnection
from solti.provisioning.settings_sources import EnvironmentSettings

__all__ = ["ProxmoxSettings"]


class ProxmoxSettings(EnvironmentSettings, ProxmoxConnection):
    """How to reach Proxmox VE (``PROXMOX_*``); the secret stays a ``SecretStr``.

    Read with ``ProxmoxSettings.from_env()``: the environment, ``SOLTI_ENV_FILE`` and the
    secrets directory (``/run/secrets/proxmox_token_secret``), see ``settings_sources``.
    """
