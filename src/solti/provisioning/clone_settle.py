"""After a clone request got no answer: find out what exists, never resend it blindly.

A lost clone may have made the VM, or may still be on its way through the server. Called by
``PveClient.clone``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from solti.provisioning.errors import ProxmoxError
from solti.provisioning.pve_errors import MaybeApplied, VmidTaken, VmMissing

if TYPE_CHECKING:
    from solti.provisioning.pve import PveClient

__all__ = ["settle_clone"]

log = logging.getLogger("solti.provisioning.pve")


SETTLE_SECONDS = 15.0  # how long a lost request may still be on its way through the server
LOCK_SECONDS = 600.0


def settle_clone(
    client: PveClient,
    node: str,
    newid: int,
    *,
    name: str | None,
    cause: MaybeApplied,
    settle_seconds: float = SETTLE_SECONDS,
) -> str | None:
    """The UPID of the clone that did take effect (None when it has already ended)."""
    log.warning("clone of VM %s got no answer (%s); checking what exists", newid, cause.reason)
    deadline = time.monotonic() + settle_seconds
    while True:
        try:
            config = client.vm_config(node, newid)
            break
        except VmMissing:
            if time.monotonic() >= deadline:
                raise MaybeApplied(
                    f"the clone to VM {newid} got no answer ({cause.reason}); checked: "
                    f"VM {newid} does not exist, so nothing was made"
                ) from None
            client.sleep(0.5)
    if name and config.get("name") != name:
        raise VmidTaken(f"VM {newid} already exists ({config.get('name')}), made by someone else")
    upid = _clone_task(client, node, newid)
    if upid is not None:
        log.warning("clone of VM %s took effect; following its task %s", newid, upid)
        return upid
    log.warning("clone of VM %s took effect; waiting for its clone lock to go", newid)
    _wait_unlocked(client, node, newid)
    return None


def _clone_task(client: PveClient, node: str, newid: int) -> str | None:
    """The newest clone task that made ``newid``, when the node lists its tasks."""
    try:
        tasks = client.node_tasks(node, vmid=newid)
    except ProxmoxError:
        return None
    for task in tasks or []:
        if task.get("type") == "qmclone" and task.get("upid"):
            return str(task["upid"])
    return None


def _wait_unlocked(client: PveClient, node: str, newid: int) -> None:
    deadline = time.monotonic() + LOCK_SECONDS
    while client.vm_config(node, newid).get("lock") and time.monotonic() < deadline:
        client.sleep(0.5)
