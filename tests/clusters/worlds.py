"""Two simulated clusters and a policy that names the second: what tests/clusters shares."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import yaml

from solti.sandbox.environment import SimEnvironment, merge_policy

LAB_SECRET_VARIABLE = "PROXMOX_LAB_TOKEN_SECRET"
DEAD_SECRET_VARIABLE = "PROXMOX_DEAD_TOKEN_SECRET"
LAB_CHANNEL = "C0LAB"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, read, released): a cluster that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cluster_entry(world: SimEnvironment, variable: str, **extra: Any) -> dict[str, Any]:
    """The ``clusters.NAME`` entry of a simulated cluster (the secret stays in ``variable``)."""
    return {
        "url": world.pve.url,
        "token_id": world.pve.token_id,
        "token_secret_env": variable,
        "ca_bundle": str(world.pve.ca_path),
        **extra,
    }


def dead_entry(world: SimEnvironment, port: int) -> dict[str, Any]:
    """A cluster whose URL answers nothing (connection refused)."""
    return {
        "url": f"https://127.0.0.1:{port}",
        "token_id": "root@pam!solti",
        "token_secret_env": DEAD_SECRET_VARIABLE,
        "ca_bundle": str(world.pve.ca_path),
    }


def policy_file(world: SimEnvironment, folder: Path, extra: dict[str, Any]) -> Path:
    """``world``'s policy with ``extra`` merged in, written to ``folder`` (not the world's own
    file, which module-scoped fixtures share)."""
    path = folder / "policy-clusters.yaml"
    path.write_text(
        yaml.safe_dump(merge_policy(world.policy(), extra), sort_keys=False), encoding="utf-8"
    )
    return path


def seed_template(world: SimEnvironment, vmid: int = 9000) -> None:
    world.pve.state.add_template(
        vmid, "rocky9-template", disk_size="10G", tags=["solti", "template", "rocky9"]
    )
