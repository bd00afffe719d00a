"""The policy's ``clusters:`` section: more Proxmox VE clusters beside the ``PROXMOX_*`` one.

Pure data, checked when the policy is read: a cluster names its URL and API token id, and the
NAME of the environment variable that holds the token secret (``token_secret_env``), never the
secret itself, so the policy file can live in git. The secret is read only when the cluster's
``Provisioner`` is built (``provisioning.clusters``). The cluster of the ``PROXMOX_*``
variables is called ``default``; a channel listed under ``channels`` uses its cluster when a
command names none.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ConfigDict, Field, field_validator

from solti.provisioning.connection_checks import CheckedConnection

__all__ = [
    "CLUSTER_NAME",
    "DEFAULT_CLUSTER",
    "ClusterEntry",
    "check_cluster_name",
    "check_clusters",
]

DEFAULT_CLUSTER = "default"
CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def check_cluster_name(name: str) -> str:
    """A cluster name as people type it: lower-case letters, digits and dashes."""
    if not CLUSTER_NAME.match(name):
        raise ValueError(
            f"{name!r} is not a cluster name; use lower-case letters, digits and dashes "
            "(up to 32, starting with a letter), e.g. lab"
        )
    return name


class ClusterEntry(CheckedConnection):
    """One more cluster (``clusters.NAME``)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="https://host[:port] of a PVE node of this cluster.")
    token_id: str = Field(description="API token id, user@realm!name (e.g. root@pam!solti).")
    token_secret_env: str = Field(
        description="NAME of the environment variable holding the token secret (never the "
        "secret itself), e.g. PROXMOX_LAB_TOKEN_SECRET."
    )
    verify_ssl: bool = Field(True, description="Verify the node's TLS certificate.")
    ca_bundle: Path | None = Field(None, description="PEM file of the CA that signed the node.")
    channels: list[str] = Field(
        default_factory=list,
        description="Slack channel ids whose commands use this cluster without --cluster.",
    )

    @field_validator("token_secret_env")
    @classmethod
    def _variable(cls, value: str) -> str:
        if not _VARIABLE.match(value):
            raise ValueError(
                "must be the NAME of an environment variable (letters, digits, _), e.g. "
                "PROXMOX_LAB_TOKEN_SECRET, not the secret itself"
            )
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if not _CHANNEL.match(channel):
                raise ValueError(f"{channel!r} is not a Slack channel id (C...)")
        return value


def check_clusters(clusters: dict[str, ClusterEntry]) -> dict[str, ClusterEntry]:
    """Names are cluster names, ``default`` is the ``PROXMOX_*`` one, a channel routes once."""
    routed: dict[str, str] = {}
    for name, entry in clusters.items():
        if name == DEFAULT_CLUSTER:
            raise ValueError(
                "'default' is the cluster of the PROXMOX_* variables; give this one another name"
            )
        if name == "all":
            raise ValueError(
                "'all' means every cluster (--cluster all); give this one another name"
            )
        check_cluster_name(name)
        for channel in entry.channels:
            if channel in routed:
                raise ValueError(
                    f"channel {channel} is routed to both {routed[channel]!r} and {name!r}; "
                    "list it under one cluster"
                )
            routed[channel] = name
    return clusters
