"""`solti reconcile` for an interrupted `snapshot create|rollback|delete`: judged by the VM's
snapshot list, never closed blind.

A CLI or bot killed inside a snapshot task leaves a ``running`` audit record while PVE's
worker goes on without it (``qmsnapshot``, ``qmrollback``, ``qmdelsnapshot``: pve-guest-common
``PVE/AbstractConfig.pm`` ``snapshot_create``/``snapshot_rollback``/``snapshot_delete``). What
happened is in PVE, once that worker has ended: ``snapshot_facts`` waits (bounded) for the
task on the VM, then reads its snapshot list and config; ``decide_snapshot`` (pure) says:

* create: the snapshot is listed and complete -> ok (finished); not listed -> failed "not
  taken" (``snapshot_create``'s error path deletes a half-made one); listed but still in
  ``snapstate`` prepare -> failed, a person looks (the lock PVE left);
* delete: the snapshot is gone -> ok; still listed -> failed, with PVE's lock and snapstate;
* rollback: closed with what PVE says: no lock and the current state grown from the
  snapshot -> ok, naming the VM's power state; a ``rollback`` lock left -> failed, a person
  runs ``qm unlock`` after a look (PVE frees it only when the rollback completes).

``Verdict`` is returned rather than reconcile's ``Decision`` so that this module imports
nothing from ``reconciliation`` (which calls it): no import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import ProxmoxError
from solti.provisioning.pve import VmMissing

__all__ = ["SNAPSHOT_ACTIONS", "SnapshotFacts", "Verdict", "decide_snapshot", "snapshot_facts"]

SNAPSHOT_ACTIONS = ("snapshot create", "snapshot rollback", "snapshot delete")
TASK_LOCKS = ("snapshot", "snapshot-delete", "rollback")  # held while PVE's worker runs


@dataclass(frozen=True)
class SnapshotFacts:
    """What PVE says about the VM after the interrupted task: its snapshots (name ->
    ``snapstate``, None when complete), the ``parent`` of its current state, lock, power."""

    snapshots: dict[str, str | None]
    parent: str | None
    lock: str | None
    status: str | None


@dataclass(frozen=True)
class Verdict:
    """How to close the record: ``result`` (ok, failed), ``text``, ``person`` must look."""

    result: str
    text: str
    person: bool = False


def _why(step: str | None) -> str:
    return f"interrupted at step {step or 'start'}"


def _pve_says(vmid: Any, facts: SnapshotFacts) -> str:
    lock = f"locked ({facts.lock})" if facts.lock else "not locked"
    return f"PVE says VM {vmid} is {facts.status or 'in an unknown state'} and {lock}"


def decide_snapshot(
    action: str, vmid: Any, snapname: str, step: str | None, facts: SnapshotFacts | None
) -> Verdict:
    """How an interrupted snapshot operation ended, from ``facts`` (None: the VM is gone)."""
    why = _why(step)
    if facts is None:
        return Verdict("failed", f"{why}; PVE no longer has VM {vmid}")
    listed = snapname in facts.snapshots
    state = facts.snapshots.get(snapname)
    unlock = f"; a person looks, then `qm unlock {vmid}`" if facts.lock else ""
    if action == "snapshot create":
        if listed and state is None:
            return Verdict("ok", f"finished by reconcile: snapshot `{snapname}` of VM {vmid} "
                                 "was taken")  # fmt: skip
        if listed:
            return Verdict("failed", f"{why}; snapshot `{snapname}` of VM {vmid} is incomplete "
                                     f"(snapstate {state}); {_pve_says(vmid, facts)}{unlock}",
                           person=True)  # fmt: skip
        return Verdict("failed", f"{why}; snapshot `{snapname}` of VM {vmid} was not taken")
    if action == "snapshot delete":
        if not listed:
            return Verdict("ok", f"finished by reconcile: snapshot `{snapname}` of VM {vmid} "
                                 "is deleted")  # fmt: skip
        left = f" (snapstate {state})" if state else ""
        return Verdict("failed", f"{why}; snapshot `{snapname}` of VM {vmid} is still there"
                                 f"{left}; {_pve_says(vmid, facts)}{unlock}",
                       person=bool(facts.lock))  # fmt: skip
    # rollback
    if facts.lock:
        return Verdict("failed", f"{why}; the rollback to `{snapname}` did not complete: "
                                 f"{_pve_says(vmid, facts)}{unlock}", person=True)  # fmt: skip
    if facts.parent == snapname:
        return Verdict("ok", f"finished by reconcile: VM {vmid} is rolled back to `{snapname}`; "
                             f"{_pve_says(vmid, facts)}")  # fmt: skip
    on = f"`{facts.parent}`" if facts.parent else "no snapshot"
    return Verdict("failed", f"{why}; VM {vmid} was not rolled back to `{snapname}` (its state "
                             f"grew from {on}); {_pve_says(vmid, facts)}")  # fmt: skip


def snapshot_facts(ops: Collaborators, node: str | None, vmid: int | None) -> SnapshotFacts | None:
    """The VM's snapshot list, lock and power once PVE's worker on it has ended (bounded by
    ``ops.lock_timeout``: a lock with no task, such as a failed rollback's, is not waited
    on). None when the VM is gone."""
    if node is None or vmid is None:
        return None
    settled = ops.settled_config(
        node,
        vmid,
        lambda config: config.get("lock") in TASK_LOCKS and _task_running(ops, node, vmid),
    )
    if settled is None:
        return None
    config, busy = settled
    try:
        if config.get("lock") in TASK_LOCKS and not busy:  # the task just ended
            config = ops.client.vm_config(node, vmid)
        rows = ops.client.request("GET", f"nodes/{node}/qemu/{vmid}/snapshot") or []
        status = ops.client.vm_status(node, vmid).get("status")
    except VmMissing:
        return None
    lock = config.get("lock")
    snapshots: dict[str, str | None] = {}
    parent = None
    for row in rows:
        if row.get("name") == "current":
            parent = row.get("parent")
        else:
            snapshots[str(row["name"])] = row.get("snapstate")
    return SnapshotFacts(snapshots, parent, lock, str(status) if status else None)


def _task_running(ops: Collaborators, node: str, vmid: int) -> bool:
    """Whether a task works on ``vmid`` now; without a task list, the lock is taken as one
    (then the wait ends at its bound)."""
    try:
        return bool(ops.client.node_tasks(node, vmid=vmid, active=True))
    except ProxmoxError:
        return True
