"""Two simulated clusters and a policy that names the second: what tests/clusters shares."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from solti.composition import HttpService
from solti.provisioning.audit_log import AuditLog
from solti.sandbox.environment import SimEnvironment, merge_policy
from solti.sandbox.slack import SlackStandIn, SlackUser
from tests.helpers.keys import new_ssh_key

LAB_SECRET_VARIABLE = "PROXMOX_LAB_TOKEN_SECRET"
DEAD_SECRET_VARIABLE = "PROXMOX_DEAD_TOKEN_SECRET"
LAB_CHANNEL = "C0LAB"
# The bot's side (tests/clusters/conftest.py ``served``).
SIGNING_SECRET = "clusters-signing-secret"
DEAD_SECRET = "dead-cluster-secret-never-shown"
ALICE, APPROVER = "U0ALICE", "U0APPROVER"
INFRA, DEAD_CHANNEL, APPROVALS = "C0INFRA", "C0DEAD", "C0APPROVALS"


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


class Served:
    """The bot as served, the person typing, and the shared audit file."""

    def __init__(self, server: HttpService, user: SlackUser, standin: SlackStandIn, db: Path):
        self.server, self.user, self.standin, self.db = server, user, standin, db
        self.audit = AuditLog(db)  # every cluster's records

    def ephemerals(self) -> str:
        return json.dumps(self.standin.ephemerals(ALICE))

    def wait(self, check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        """Work after the ack is asynchronous: wait (bounded) until ``check()`` holds."""
        deadline = time.monotonic() + timeout
        while not (found := check()):
            assert time.monotonic() < deadline, f"never happened: {what}"
            time.sleep(0.05)
        return found

    def wait_ephemeral(self, needle: str) -> str:
        return self.wait(lambda: needle in self.ephemerals() and self.ephemerals(), needle)

    def created(self, name: str) -> Any:
        def found() -> Any:
            for record in self.audit.query(action="vm create", result="ok"):
                if record.name == name:
                    return record
            return None

        return self.wait(found, f"VM {name} created")

    def set_key(self) -> None:
        """Alice sets a fresh SSH key (in #infra), as her creates need."""
        self.user.slash(f"key set {new_ssh_key('alice@laptop')}", user=ALICE, channel=INFRA)
        self.wait_ephemeral("Fingerprint")

    def create(self, name: str, channel: str, *options: str) -> Any:
        """Alice's `/solti vm create rocky9 --name NAME [OPTIONS]` in ``channel``: its ``ok``
        audit record, once there."""
        command = " ".join(("vm create rocky9 --name", name, *options))
        self.user.slash(command, user=ALICE, channel=channel)
        return self.created(name)
