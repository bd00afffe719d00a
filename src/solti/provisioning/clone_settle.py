"""After a clone request got no answer: find out what exists, never resend it blindly.

A lost clone may have made the VM, may still be copying, or may still be on its way through
the server. Called by ``PveClient.clone``.

What PVE shows meanwhile (qemu-server ``API2/Qemu.pm``, ``clone_vm``): before forking the
worker it writes the new VM's config as a placeholder holding only ``lock: clone`` (no name;
the name comes with the config the worker writes at the end), and the ``qmclone`` task carries
the *source* VMID as its id (``fork_worker('qmclone', $vmid, ...)``). A failed clone removes
the placeholder. So a VM that exists with the clone lock is judged only once the lock is gone:
then its name says whether it is ours, and its task says how the clone ended.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from solti.provisioning.errors import ProxmoxError, TaskFailed
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
    source: int | None = None,
    task_node: str | None = None,
    sent_at: float | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> str | None:
    """The UPID of the clone that did take effect (None when its task is not listed).

    ``node`` holds the new VM, ``task_node`` (default ``node``) ran the clone task of
    ``source``, sent at ``sent_at`` (epoch seconds). Raises ``VmidTaken`` when ``newid`` is
    someone else's VM, ``TaskFailed`` when our clone's task failed (PVE removed its
    placeholder), ``MaybeApplied`` when nothing exists.
    """
    log.warning("clone of VM %s got no answer (%s); checking what exists", newid, cause.reason)
    task_node = task_node or node
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
    upid = _clone_task(client, task_node, newid, source, sent_at)
    if config.get("lock") == "clone":
        log.warning("clone of VM %s took effect and is running; waiting for its lock", newid)
        config = _settled(client, node, newid, upid, task_node)
    if name and config.get("name") != name:
        raise VmidTaken(f"VM {newid} already exists ({config.get('name')}), made by someone else")
    if upid is not None:
        log.warning("clone of VM %s took effect; following its task %s", newid, upid)
    return upid


def _settled(
    client: PveClient, node: str, newid: int, upid: str | None, task_node: str
) -> dict[str, Any]:
    """The config of ``newid`` once its clone lock is gone; a clone that failed meanwhile
    (placeholder removed) raises its task's exit status."""
    deadline = time.monotonic() + LOCK_SECONDS
    while True:
        try:
            config = client.vm_config(node, newid)
        except VmMissing:
            raise _failed(client, newid, upid, task_node) from None
        if config.get("lock") != "clone" or time.monotonic() >= deadline:
            return config
        client.sleep(0.5)


def _failed(client: PveClient, newid: int, upid: str | None, task_node: str) -> ProxmoxError:
    status: dict[str, Any] = {}
    if upid is not None:
        try:
            status = client.task_status(task_node, upid)
        except ProxmoxError:
            status = {}
    exitstatus = status.get("exitstatus")
    if upid is not None and exitstatus:
        return TaskFailed(str(exitstatus), upid=upid, exitstatus=str(exitstatus))
    return MaybeApplied(
        f"the clone to VM {newid} got no answer; it started, then VM {newid} went away "
        "(the clone failed), so nothing was made"
    )


def _clone_task(
    client: PveClient, node: str, newid: int, source: int | None, since: float | None
) -> str | None:
    """The clone task that made ``newid``, when the node's task list names exactly one.

    PVE files a clone task under its *source* VM, and a template is the source of many
    clones at once: only a single ``qmclone`` of ``source`` started since our request was
    sent is taken as ours. A task filed under the new id (other tools) is taken too.
    """
    queries: list[dict[str, Any]] = [{"vmid": newid}]
    if source is not None and since is not None:
        queries.insert(0, {"vmid": source, "since": int(since) - 1})
    for query in queries:
        try:
            rows = client.request("GET", f"nodes/{node}/tasks", source="all",
                                  typefilter="qmclone", **query)  # fmt: skip
        except ProxmoxError:
            continue
        found = [str(t["upid"]) for t in rows or [] if t.get("type") == "qmclone" and t.get("upid")]
        if len(found) == 1:
            return found[0]
    return None
