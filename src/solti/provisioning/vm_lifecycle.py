"""VM lifecycle after create: list, verify, start, stop, shutdown, remove.

Each verb finds the VM's node from one ``/cluster/resources`` snapshot (VMIDs are cluster-wide,
nodes are not something a user should have to know), refuses templates (they have their own
verbs), writes a ``running`` audit record, calls PVE and waits for the task, then completes the
record. Stopping or shutting down a stopped VM is a no-op in PVE and therefore here.

A ``request_id`` makes a verb idempotent (a Slack retry, a double click, a re-run script): when
the audit log already holds the same verb with that id completed, the recorded outcome is
returned and Proxmox is not touched again; while it is still running, the repeat is refused.
A failed attempt may be retried with the same id.
"""

from __future__ import annotations

from typing import Any

from solti.provisioning.addresses import probe, static_address
from solti.provisioning.audit_log import VM_REMOVE
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import InvalidRequest, SoltiError, TaskFailed
from solti.provisioning.inventory import Snapshot, boot_disk, disk_size, split_tags
from solti.provisioning.models import VmInfo
from solti.provisioning.operation import Operation
from solti.provisioning.task_log import guest_was_killed

__all__ = [
    "list_vms",
    "remove_vm",
    "shutdown_vm",
    "start_vm",
    "stop_vm",
    "verify_vm",
]

DEFAULT_SHUTDOWN_TIMEOUT = 120
# The state a VM is left in by each verb; what a repeated request reports.
_OUTCOME = {
    "vm start": "running",
    "vm stop": "stopped",
    "vm shutdown": "stopped",
    VM_REMOVE: "removed",
}


def _origin(ops: Collaborators, vmid: int) -> Any:
    """The newest successful create of ``vmid`` in the audit log (owner, template), with the
    template of a later ``vm rebuild`` (the VM runs that one now)."""
    found = ops.audit.query(vmid=vmid, action="vm create", result="ok", limit=1)
    if not found:
        return None
    rebuilt = ops.audit.query(vmid=vmid, action="vm rebuild", result="ok", limit=1)
    return _rebuilt(found[0], rebuilt[0] if rebuilt else None)


def _rebuilt(create: Any, rebuild: Any | None) -> Any:
    """``create`` with the template of ``rebuild`` when that came later (vm_rebuild)."""
    if rebuild is None or rebuild.id < create.id:
        return create
    fields = ("template_vmid", "template_name", "template_version")
    return create.model_copy(update={f: getattr(rebuild, f) for f in fields})


def _origins(ops: Collaborators) -> dict[int, Any]:
    """The newest successful create of every VM, in one audit query (a list of 5,000 VMs
    made one query per VM before)."""
    newest: dict[int, Any] = {}
    for record in ops.audit.query(action="vm create", result="ok", limit=None):
        if record.vmid is not None:
            newest.setdefault(record.vmid, record)  # newest first: keep the first seen
    rebuilds: dict[int, Any] = {}
    for record in ops.audit.query(action="vm rebuild", result="ok", limit=None):
        if record.vmid is not None:
            rebuilds.setdefault(record.vmid, record)
    return {vmid: _rebuilt(create, rebuilds.get(vmid)) for vmid, create in newest.items()}


def _vm_entry(ops: Collaborators, vmid: int) -> tuple[Snapshot, dict[str, Any]]:
    snapshot = Snapshot.take(ops.client)
    entry = snapshot.require(vmid)
    if entry.get("type", "qemu") != "qemu":
        raise InvalidRequest(f"{vmid} is a container, not a VM", field="vmid")
    if Snapshot.is_template(entry):
        raise InvalidRequest(f"{vmid} is a template; use the `template` verbs for it", field="vmid")
    return snapshot, entry


def _info(
    entry: dict[str, Any],
    origin: Any,
    config: dict[str, Any] | None = None,
    *,
    address: str | None = None,
    note: str | None = None,
) -> VmInfo:
    config = config or {}
    disk = boot_disk(config) if config else None
    memory = config.get("memory")
    return VmInfo(
        vmid=int(entry["vmid"]),
        name=str(
            config.get("name")
            or entry.get("name")
            or (origin.name if origin else "")
            or f"VM {entry['vmid']}"
        ),
        node=str(entry.get("node", "")),
        status=str(entry.get("status", "unknown")),
        template_vmid=origin.template_vmid if origin else None,
        template_name=origin.template_name if origin else None,
        template_version=origin.template_version if origin else None,
        owner=origin.actor if origin else None,
        created_at=origin.at if origin else None,
        cores=int(config["cores"]) if "cores" in config else None,
        memory=int(str(memory).split(",")[0].removeprefix("current=")) if memory else None,
        disk_size=disk_size(config.get(disk)) if disk else None,
        tags=split_tags(config.get("tags") if config else entry.get("tags")),
        address=address,
        note=note,
    )


def list_vms(
    ops: Collaborators, owner: str | None = None, *, addresses: bool = False
) -> list[VmInfo]:
    """Every VM (templates excluded) with owner and template from the audit log.

    ``addresses`` asks the guest agent of every running VM once (one API call each, no
    waiting), so it is off unless a person asks for it.
    """
    snapshot = Snapshot.take(ops.client)
    snapshot.complete_vm_names(ops.client)  # VMs made seconds ago: live name and status
    owners = ops.audit.owners()
    origins = _origins(ops) if owners else {}
    offline = snapshot.offline_nodes()
    result = []
    for entry in snapshot.entries:
        if entry.get("type", "qemu") != "qemu" or Snapshot.is_template(entry):
            continue
        vmid = int(entry["vmid"])
        if owner is not None and owners.get(vmid) != owner:
            continue
        address, node = None, str(entry.get("node", ""))
        if addresses and entry.get("status") == "running" and node not in offline:
            address = probe(ops.client, node, vmid).address
        origin = origins.get(vmid) if vmid in owners else None
        note = f"node {node} is offline" if node in offline else None  # PVE cannot reach it
        info = _info(entry, origin, address=address, note=note)
        info.owner = owners.get(vmid)  # a `vm give` moves the owner away from the creator
        result.append(info)
    return sorted(result, key=lambda v: v.vmid)


def verify_vm(ops: Collaborators, vmid: int) -> VmInfo:
    """The VM exists, is not locked and has its cloud-init drive; its live status."""
    _, entry = _vm_entry(ops, vmid)
    node = str(entry["node"])
    config = ops.client.vm_config(node, vmid)
    status = ops.client.vm_status(node, vmid)
    problems = []
    if config.get("lock"):
        problems.append(f"it is locked ({config['lock']})")
    if not any("cloudinit" in str(v) for v in config.values()):
        problems.append("it has no cloud-init drive")
    if "ciuser" not in config:
        problems.append("it has no cloud-init user")
    if problems:
        raise SoltiError(f"VM {vmid} failed verification: {'; '.join(problems)}")
    live = status.get("status", "unknown")
    address = static_address(str(config.get("ipconfig0", "")))
    if address is None and live == "running" and _agent_on(config):
        address = probe(ops.client, node, vmid).address  # one call; no waiting for a boot
    return _info({**entry, "status": live}, _origin(ops, vmid), config, address=address)


def _agent_on(config: dict[str, Any]) -> bool:
    """``agent: 1`` / ``enabled=1,...``: asking a VM without an agent is a wasted call."""
    first = str(config.get("agent", "0")).split(",")[0].removeprefix("enabled=")
    return first.lower() in ("1", "on", "yes", "true")


def _recorded_outcome(vmid: int, action: str, record: Any) -> VmInfo:
    """What an earlier run of the same request did, answered instead of acting again."""
    return VmInfo(
        vmid=vmid,
        name=record.name or f"VM {vmid}",
        node=record.node or "",
        status=_OUTCOME.get(action, "unknown"),
        template_vmid=record.template_vmid,
        template_name=record.template_name,
        template_version=record.template_version,
    )


def _act(
    ops: Collaborators,
    vmid: int,
    action: str,
    run: Any,
    *,
    actor: str,
    via: str,
    params: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> VmInfo:
    """One power verb or remove as an ``Operation`` of one step, named after the verb."""
    verb = action.split()[-1]
    op = Operation(ops, action, actor=actor, via=via, request_id=request_id, steps=[verb])
    earlier = op.earlier(vmid)
    if earlier is not None:
        return _recorded_outcome(vmid, action, earlier)
    _, entry = _vm_entry(ops, vmid)
    node = str(entry["node"])
    origin = _origin(ops, vmid)
    with op.audited(
        vmid=vmid,
        name=entry.get("name") or (origin.name if origin else None),
        node=node,
        template_vmid=origin.template_vmid if origin else None,
        template_name=origin.template_name if origin else None,
        template_version=origin.template_version if origin else None,
        params=params or {},
    ):
        with op.step(verb, f"VM {vmid}"):
            outcome = run(node, entry)
        status, note = outcome if isinstance(outcome, tuple) else (outcome, None)
        if note:
            op.done(params={"note": note})
    return _info({**entry, "status": status}, origin, note=note)


def start_vm(
    ops: Collaborators,
    vmid: int,
    *,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
) -> VmInfo:
    """Start a VM; a running VM is left alone (PVE would fail the task)."""

    def run(node: str, entry: dict[str, Any]) -> str:
        status = entry.get("status")
        if status not in ("running", "stopped"):  # "unknown": too new for the RRD cache
            status = ops.client.vm_status(node, vmid).get("status")
        if status != "running":
            ops.waiter.wait(ops.client.start(node, vmid), node=node, step="start")
        return "running"

    return _act(ops, vmid, "vm start", run, actor=actor, via=via, request_id=request_id)


def stop_vm(
    ops: Collaborators,
    vmid: int,
    *,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
) -> VmInfo:
    """Hard stop (power off); PVE treats a stopped VM as done."""

    def run(node: str, entry: dict[str, Any]) -> str:
        ops.waiter.wait(ops.client.stop(node, vmid), node=node, step="stop")
        return "stopped"

    return _act(ops, vmid, "vm stop", run, actor=actor, via=via, request_id=request_id)


def shutdown_vm(
    ops: Collaborators,
    vmid: int,
    *,
    timeout: int = DEFAULT_SHUTDOWN_TIMEOUT,
    force: bool = False,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
) -> VmInfo:
    """ACPI shutdown. A guest that ignores it within ``timeout`` is reported, not killed,
    unless ``force``: then PVE stops it hard (``forceStop=1``) once the timeout is over."""
    if timeout < 0:
        raise InvalidRequest(f"{timeout} is not a timeout; use seconds >= 0", field="timeout")

    def run(node: str, entry: dict[str, Any]) -> tuple[str, str | None]:
        try:
            upid = ops.client.request(
                "POST",
                f"nodes/{node}/qemu/{vmid}/status/shutdown",
                timeout=timeout,
                forceStop=True if force else None,
            )
            ops.waiter.wait(upid, node=node, step="shutdown", timeout=timeout + 30)
        except TaskFailed as exc:
            # Only the CLI has --force; in Slack `vm stop` is the way to power it off.
            forced = f"`vm shutdown {vmid} --force` or " if via == "cli" else ""
            exc.message = (
                f"shutdown: VM {vmid} did not shut down within {timeout} s ({exc.reason}); "
                f"use {forced}`vm stop {vmid}` to power it off"
            )
            raise
        if force and guest_was_killed(ops.client, node, upid):
            return "stopped", f"the guest did not shut down within {timeout} s; it was stopped"
        return "stopped", None

    return _act(
        ops,
        vmid,
        "vm shutdown",
        run,
        actor=actor,
        via=via,
        params={"timeout": timeout, "force": force},
        request_id=request_id,
    )


def remove_vm(
    ops: Collaborators,
    vmid: int,
    *,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
) -> VmInfo:
    """Stop if running, then destroy with its disks (``purge``, unreferenced disks too)."""

    def run(node: str, entry: dict[str, Any]) -> str:
        status = ops.client.vm_status(node, vmid).get("status")
        if status == "running":
            ops.waiter.wait(ops.client.stop(node, vmid), node=node, step="stop")
        ops.waiter.wait(ops.client.delete_vm(node, vmid), node=node, step="remove")
        return "removed"

    return _act(ops, vmid, VM_REMOVE, run, actor=actor, via=via, request_id=request_id)
