"""VM snapshots: list, create, roll back, delete; and the old ones the report names.

Each change is an ``Operation`` (audit actions ``snapshot create``, ``snapshot rollback``,
``snapshot delete``; one step named after the verb), idempotent with a request id like the
power verbs. The checks that need no change run first, with reads only (the VM from
``/cluster/resources``, its snapshot list, for a create its config and the node's storage
types), and a refused change is recorded too (``Operation.refused``). Who may act (owner or
admin) is the caller's question: the bot asks ``bot.authorization``; the CLI is the
operators' tool.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import InvalidRequest, NotFound, TaskFailed
from solti.provisioning.inventory import Snapshot as ClusterSnapshot
from solti.provisioning.operation import Operation
from solti.provisioning.snapshots_policy import SnapshotPolicy
from solti.provisioning.snapshots_rules import (
    VmSnapshot,
    age_text,
    check_limits,
    check_name,
    default_name,
    parse_snapshots,
    unsnapshottable_disk,
)

__all__ = [
    "SNAPSHOT_CREATE",
    "SNAPSHOT_DELETE",
    "SNAPSHOT_ROLLBACK",
    "OldSnapshot",
    "RollbackPreview",
    "SnapshotList",
    "SnapshotResult",
    "create_snapshot",
    "delete_snapshot",
    "list_snapshots",
    "old_snapshots",
    "rollback_preview",
    "rollback_snapshot",
]

SNAPSHOT_CREATE = "snapshot create"
SNAPSHOT_ROLLBACK = "snapshot rollback"
SNAPSHOT_DELETE = "snapshot delete"


class SnapshotList(BaseModel):
    """A VM's snapshots, oldest first, and which one the current state grew from."""

    vmid: int
    name: str
    node: str
    status: str
    current_parent: str | None = None
    snapshots: list[VmSnapshot]


class SnapshotResult(BaseModel):
    """What a create, rollback or delete did (``reused``: an earlier run with the same id)."""

    action: str
    vmid: int
    name: str
    snapshot: str
    status: str | None = None
    reused: bool = False


class RollbackPreview(BaseModel):
    """What a rollback will throw away, said before anyone confirms it."""

    vmid: int
    name: str
    snapshot: VmSnapshot
    running: bool
    lost: str  # one sentence: everything since the snapshot's time, and the power state

    @property
    def question(self) -> str:
        return f"Roll VM {self.vmid} ({self.name}) back to `{self.snapshot.name}`? {self.lost}"


class OldSnapshot(BaseModel):
    """A snapshot older than ``snapshots.max_age``, for the report (by owner)."""

    owner: str
    vmid: int
    vm_name: str
    snapshot: str
    taken_at: datetime
    age: str


# --- reads -----------------------------------------------------------------------------------


def _vm(ops: Collaborators, vmid: int) -> dict[str, Any]:
    entry = ClusterSnapshot.take(ops.client).require(vmid)
    if entry.get("type", "qemu") != "qemu":
        raise InvalidRequest(f"{vmid} is a container, not a VM", field="vmid")
    if ClusterSnapshot.is_template(entry):
        raise InvalidRequest(
            f"{vmid} is a template; Proxmox does not snapshot templates "
            "(their disks are the base of linked clones)"
        )
    return entry


def _status(ops: Collaborators, node: str, vmid: int, entry: dict[str, Any]) -> str:
    status = str(entry.get("status", "unknown"))
    if status not in ("running", "stopped"):  # too new for the RRD cache: ask the VM
        status = str(ops.client.vm_status(node, vmid).get("status", "unknown"))
    return status


def _listed(ops: Collaborators, node: str, vmid: int) -> tuple[list[VmSnapshot], str | None]:
    rows = ops.client.request("GET", f"nodes/{node}/qemu/{vmid}/snapshot") or []
    return parse_snapshots(list(rows))


def list_snapshots(ops: Collaborators, vmid: int) -> SnapshotList:
    entry = _vm(ops, vmid)
    node = str(entry["node"])
    snapshots, parent = _listed(ops, node, vmid)
    return SnapshotList(
        vmid=vmid,
        name=str(entry.get("name") or f"VM {vmid}"),
        node=node,
        status=str(entry.get("status", "unknown")),
        current_parent=parent,
        snapshots=snapshots,
    )


def _require(vmid: int, snapshots: list[VmSnapshot], name: str) -> VmSnapshot:
    for snap in snapshots:
        if snap.name == name:
            return snap
    have = ", ".join(f"`{s.name}`" for s in snapshots) or "none"
    raise NotFound(
        f"VM {vmid} has no snapshot named `{name}` (it has: {have}); "
        f"`snapshot list {vmid}` shows them"
    )


def rollback_preview(
    ops: Collaborators, vmid: int, name: str, *, start: bool = True, now: datetime | None = None
) -> RollbackPreview:
    """The snapshot and the sentence of what is lost: every change since it was taken, and
    what becomes of a running VM (``start``: as ``rollback_snapshot`` is told)."""
    entry = _vm(ops, vmid)
    node = str(entry["node"])
    snap = _require(vmid, _listed(ops, node, vmid)[0], name)
    running = _status(ops, node, vmid, entry) == "running"
    now = now or datetime.now(UTC)
    if snap.taken_at is not None:
        since = f"since {snap.taken_at:%Y-%m-%d %H:%M} UTC ({age_text(now - snap.taken_at)} ago)"
    else:
        since = "since the snapshot was taken"
    power = ""
    if running:
        power = " The VM is running: " + power_after_rollback(snap.memory, start)
    lost = f"Everything written to its disks and every config change {since} is lost.{power}"
    return RollbackPreview(
        vmid=vmid,
        name=str(entry.get("name") or f"VM {vmid}"),
        snapshot=snap,
        running=running,
        lost=lost,
    )


def power_after_rollback(memory: bool, start: bool) -> str:
    """What a rollback does to a running VM: PVE stops it hard first, resumes it from a RAM
    snapshot, and starts it again only when asked (``start``, qemu-server ``API2/Qemu.pm``
    ``rollback``); Solti asks by default, so the owner's VM comes back as it was."""
    if memory:
        return "it is stopped, then resumed from the snapshot's RAM."
    if start:
        return "it is stopped, then started again from the snapshot's disks."
    return "it is stopped and stays stopped."


# --- changes ---------------------------------------------------------------------------------


def _earlier_result(action: str, vmid: int, record: Any) -> SnapshotResult:
    params = record.params or {}
    return SnapshotResult(
        action=action,
        vmid=vmid,
        name=record.name or f"VM {vmid}",
        snapshot=str(params.get("snapshot", "")),
        status=params.get("status"),
        reused=True,
    )


def create_snapshot(
    ops: Collaborators,
    policy: SnapshotPolicy,
    vmid: int,
    name: str | None = None,
    *,
    description: str | None = None,
    memory: bool = False,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
    now: datetime | None = None,
) -> SnapshotResult:
    """Take a snapshot (default name ``solti-YYMMDD-HHMM``) within the policy's limits."""
    op = Operation(ops, SNAPSHOT_CREATE, actor=actor, via=via, request_id=request_id,
                   steps=["snapshot"])  # fmt: skip
    earlier = op.earlier(vmid)
    if earlier is not None:
        return _earlier_result(SNAPSHOT_CREATE, vmid, earlier)
    snapname = name or default_name(now or datetime.now(UTC))
    params = {"snapshot": snapname, "memory": memory, "description": description or None}
    entry: dict[str, Any] = {}
    try:
        check_name(snapname)
        entry = _vm(ops, vmid)
        node = str(entry["node"])
        running = _status(ops, node, vmid, entry) == "running"
        snapshots, _ = _listed(ops, node, vmid)
        check_limits(vmid, snapshots, snapname, policy, memory=memory, running=running)
        config = ops.client.vm_config(node, vmid)
        types = {str(s["storage"]): str(s.get("type", "")) for s in ops.client.storages(node)}
        problem = unsnapshottable_disk(config, types)
        if problem:
            raise InvalidRequest(f"VM {vmid} cannot be snapshotted: {problem}")
    except Exception as exc:
        op.refused(exc, vmid=vmid, name=entry.get("name"), params=params)
        raise
    vm_name = str(entry.get("name") or f"VM {vmid}")
    with op.audited(vmid=vmid, name=vm_name, node=node, params=params):
        with op.step("snapshot", f"VM {vmid}: {snapname}"):
            upid = ops.client.request(
                "POST",
                f"nodes/{node}/qemu/{vmid}/snapshot",
                snapname=snapname,
                description=description or None,
                vmstate=1 if memory else None,
            )
            ops.waiter.wait(upid, node=node, step="snapshot")
        op.done(params={**params, "status": "running" if running else "stopped"})
    return SnapshotResult(
        action=SNAPSHOT_CREATE, vmid=vmid, name=vm_name, snapshot=snapname,
        status="running" if running else "stopped",
    )  # fmt: skip


def rollback_snapshot(
    ops: Collaborators,
    vmid: int,
    name: str,
    *,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
    start: bool = True,
) -> SnapshotResult:
    """Roll back to ``name``: PVE stops a running VM first and resumes it from a RAM
    snapshot; a VM that was running is started again (PVE's ``start=1``) unless ``start``
    is False; what ``rollback_preview`` said is gone is gone."""
    return _change(ops, SNAPSHOT_ROLLBACK, vmid, name, actor=actor, via=via,
                   request_id=request_id, start=start)  # fmt: skip


def delete_snapshot(
    ops: Collaborators,
    vmid: int,
    name: str,
    *,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
) -> SnapshotResult:
    """Delete ``name``; the VM as it is now is untouched (its children keep their data)."""
    return _change(ops, SNAPSHOT_DELETE, vmid, name, actor=actor, via=via,
                   request_id=request_id)  # fmt: skip


def _change(
    ops: Collaborators, action: str, vmid: int, name: str, *, actor: str, via: str,
    request_id: str | None, start: bool = False,
) -> SnapshotResult:  # fmt: skip
    verb = action.split()[-1]
    op = Operation(ops, action, actor=actor, via=via, request_id=request_id, steps=[verb])
    earlier = op.earlier(vmid)
    if earlier is not None:
        return _earlier_result(action, vmid, earlier)
    params: dict[str, Any] = {"snapshot": name}
    entry: dict[str, Any] = {}
    try:
        entry = _vm(ops, vmid)
        node = str(entry["node"])
        snap = _require(vmid, _listed(ops, node, vmid)[0], name)
        if action == SNAPSHOT_ROLLBACK:  # start again only what ran (a RAM one resumes)
            start = start and not snap.memory and _status(ops, node, vmid, entry) == "running"
            params["start"] = start
    except Exception as exc:
        op.refused(exc, vmid=vmid, name=entry.get("name"), params=params)
        raise
    vm_name = str(entry.get("name") or f"VM {vmid}")
    path = f"nodes/{node}/qemu/{vmid}/snapshot/{name}"
    status = None
    with op.audited(vmid=vmid, name=vm_name, node=node, params=params):
        with op.step(verb, f"VM {vmid}: {name}"):
            if action == SNAPSHOT_ROLLBACK:
                upid = ops.client.request("POST", f"{path}/rollback", start=1 if start else None)
            else:
                upid = ops.client.request("DELETE", path)
            try:
                ops.waiter.wait(upid, node=node, step=verb)
            except TaskFailed as exc:
                exc.message = f"{verb} of snapshot `{name}` of VM {vmid}: {exc.reason}"
                raise
        if action == SNAPSHOT_ROLLBACK:
            status = "running" if snap.memory or start else "stopped"
            params["status"] = status
        op.done(params=params)
    return SnapshotResult(action=action, vmid=vmid, name=vm_name, snapshot=name, status=status)


# --- the report ------------------------------------------------------------------------------


def old_snapshots(
    ops: Collaborators, policy: SnapshotPolicy, *, now: datetime | None = None
) -> list[OldSnapshot]:
    """Snapshots older than ``max_age`` of the VMs Solti knows an owner of (one snapshot
    list per such VM), oldest first."""
    now = now or datetime.now(UTC)
    owners = ops.audit.owners()
    if not owners:
        return []
    found = []
    for entry in ClusterSnapshot.take(ops.client).entries:
        vmid = int(entry.get("vmid", 0))
        if vmid not in owners or ClusterSnapshot.is_template(entry):
            continue
        try:
            snapshots, _ = _listed(ops, str(entry["node"]), vmid)
        except Exception:  # a VM gone or unreadable since the list: not this report's news
            continue
        for snap in snapshots:
            if snap.taken_at is None or now - snap.taken_at <= policy.max_age:
                continue
            found.append(
                OldSnapshot(
                    owner=owners[vmid],
                    vmid=vmid,
                    vm_name=str(entry.get("name") or f"VM {vmid}"),
                    snapshot=snap.name,
                    taken_at=snap.taken_at,
                    age=age_text(now - snap.taken_at),
                )
            )
    return sorted(found, key=lambda o: o.taken_at)
