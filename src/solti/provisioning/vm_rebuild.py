"""VM rebuild: re-create a VM Solti made from a newer template, keeping what makes it that VM.

One ``Operation`` (action ``vm rebuild``) with the steps ``plan, stop, destroy, clone,
configure, resize, start``. What the new VM keeps is decided by ``rebuild_plan`` and written
to the ``rebuild_journal`` before anything changes, because after the destroy it exists nowhere
else: a rebuild killed after its destroy is finished by ``solti reconcile`` (``resume``), and a
failed one by running ``vm rebuild`` again (the plan then puts back the journaled settings).

The audit record names the NEW template (``template_vmid``/``_name``/``_version``), so lists,
the report and the outdated-template notices see the VM on its new version; ``params`` keep the
old one (``from_template_vmid``, ``from_version``). Ownership (``AuditLog.owners``: create, give,
remove) and the lease (keyed by VMID) are untouched: the VM stays its owner's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from pydantic import Field

from solti.provisioning.collaborators import Collaborators, elapsed_ms
from solti.provisioning.errors import SoltiError
from solti.provisioning.models import Progress, VmInfo
from solti.provisioning.operation import Operation
from solti.provisioning.pve import VmMissing
from solti.provisioning.rebuild_journal import JournalEntry, RebuildJournal
from solti.provisioning.rebuild_plan import REBUILD, RebuildPlan, new_config, plan_rebuild
from solti.provisioning.strict_models import StrictModel
from solti.provisioning.vm_plan import distribution_of

__all__ = ["REBUILD", "REBUILD_STEPS", "RebuildResult", "rebuild_vm", "resume"]

REBUILD_STEPS = ["plan", "stop", "destroy", "clone", "configure", "resize", "start"]


class RebuildResult(StrictModel):
    """What a rebuild did; ``nothing_to_do`` when the VM was already on the template."""

    vm: VmInfo
    plan: RebuildPlan
    audit_id: int | None = None
    reused: bool = False
    nothing_to_do: bool = False
    note: str | None = Field(None, description="What happened, for people.")
    duration_ms: int | None = None


def already_text(plan: RebuildPlan) -> str:
    version = plan.old_version or plan.template.version or f"template {plan.template.vmid}"
    return f"VM {plan.vmid} ({plan.name}) is already on {version}; nothing to do"


def rebuild_vm(
    ops: Collaborators,
    vmid: int,
    *,
    template: str | int | None = None,
    dry_run: bool = False,
    progress: Callable[[Progress], None] | None = None,
    actor: str = "unknown",
    via: str = "cli",
    request_id: str | None = None,
) -> RebuildResult:
    """Re-create ``vmid`` from the newest build of its distribution (or ``template``)."""
    op = Operation(ops, REBUILD, actor=actor, via=via, request_id=request_id,
                   steps=REBUILD_STEPS, progress=progress)  # fmt: skip
    earlier = op.earlier(vmid)
    if earlier is not None:
        return _reused(ops, vmid, earlier)
    try:
        with op.step("plan", f"VM {vmid}"):
            plan = plan_rebuild(ops, vmid, template)
    except SoltiError as exc:
        if not dry_run:
            op.refused(exc, "plan", vmid=vmid, params={"template": template})
        raise
    if dry_run or plan.nothing_to_do:
        status = "planned" if dry_run and not plan.nothing_to_do else plan.status
        note = already_text(plan) if plan.nothing_to_do else None
        return RebuildResult(vm=_vm(plan, status), plan=plan, nothing_to_do=plan.nothing_to_do,
                             note=note)  # fmt: skip
    op.claim(lambda _ids, _names: (vmid, None))  # no create of this process takes the id
    journal = RebuildJournal(ops.audit)
    with op.audited(
        vmid=vmid,
        name=plan.name,
        node=plan.node,
        template_vmid=plan.template.vmid,
        template_name=plan.template.name,
        template_version=plan.template.version,
        params=_audit_params(plan, template),
    ):
        assert op.audit_id is not None
        journal.put(op.audit_id, vmid, plan.node, plan.restore)
        if plan.vm_exists:  # a retry's half-made clone goes the same way as an old VM
            _stop_and_destroy(op, plan, lambda: journal.mark(op.audit_id, destroyed=True))
        else:
            journal.mark(op.audit_id, destroyed=True)
        status = _make(op.ops, plan, actor, step=op.step, undo=op.undo_with,
                       vmid_step=op.with_free_vmid)  # fmt: skip
        journal.mark(op.audit_id, finished=True)
        if plan.resumes is not None:
            journal.mark(plan.resumes, finished=True)
    return RebuildResult(vm=_vm(plan, status), plan=plan, audit_id=op.audit_id,
                         duration_ms=elapsed_ms(op.started))  # fmt: skip


def _stop_and_destroy(op: Operation, plan: RebuildPlan, destroying: Callable[[], None]) -> None:
    """Stop and destroy the old VM; ``destroying`` marks the journal just before the destroy
    is sent (if it then ends while nobody watches, the journal still knows)."""
    ops, node, vmid = op.ops, plan.node, plan.vmid
    with op.step("stop", f"VM {vmid}" if plan.start else "not needed (VM is stopped)"):
        if ops.client.vm_status(node, vmid).get("status") == "running":
            ops.waiter.wait(ops.client.stop(node, vmid), node=node)
    with op.step("destroy", f"VM {vmid} and its disks"):
        destroying()
        ops.waiter.wait(ops.until_unlocked(lambda: ops.client.delete_vm(node, vmid)), node=node)
    # From here the old VM is gone: a failure leaves the journal for a retry to finish.
    op.undo_with(lambda: f"VM {vmid} was destroyed; run `vm rebuild {vmid}` again to finish it")


def _make(
    ops: Collaborators,
    plan: RebuildPlan,
    actor: str,
    *,
    step: Callable[..., Any],
    undo: Callable[..., None] | None = None,
    vmid_step: Callable[..., int] | None = None,
    exists: bool = False,
) -> str:
    """Clone (unless the clone ``exists``), configure, resize and start: the new VM."""
    node, vmid, template = plan.node, plan.vmid, plan.template

    def clone(_vmid: int) -> None:
        upid = ops.client.clone(
            template.node, template.vmid, vmid, name=plan.name, full=plan.full,
            storage=plan.target_storage, target=node if node != template.node else None,
        )  # fmt: skip
        if undo is not None:
            undo(lambda: f"VM {vmid} was re-made but not finished; "
                         f"run `vm rebuild {vmid}` again to finish it")  # fmt: skip
        ops.waiter.wait(upid, node=template.node)

    if not exists:
        detail = f"VM {vmid} from {template.vmid}"
        if vmid_step is not None:
            vmid_step("clone", clone, detail=lambda _v, _t: detail, next_free=None)
        else:
            with step("clone", detail):
                clone(vmid)
    params = new_config(plan, actor, distribution_of(template))
    params["ciupgrade"] = int(ops.defaults.upgrade_on_first_boot)  # as a create sets it
    with step("configure", "MAC address, network, cloud-init, cores, memory, tags"):
        ops.until_unlocked(lambda: ops.client.set_config(node, vmid, **params))
    with step("resize", f"{plan.disk_after}" if plan.resize else "not needed"):
        if plan.resize and plan.disk_after is not None:
            ops.waiter.wait(ops.client.resize(node, vmid, "scsi0", plan.disk_after.pve()),
                            node=node)  # fmt: skip
    with step("start", f"power on VM {vmid}" if plan.start else "skipped (it was stopped)"):
        if plan.start and ops.client.vm_status(node, vmid).get("status") != "running":
            ops.waiter.wait(ops.client.start(node, vmid), node=node)
    return "running" if plan.start else "stopped"


def resume(ops: Collaborators, record: Any, entry: JournalEntry) -> str:
    """Finish a rebuild a crash interrupted after its destroy (``solti reconcile``).

    The template is the one the record names; the settings are the journal's. A clone that
    exists is configured again (one idempotent config write), a missing one is made.
    """
    from solti.provisioning.inventory import Snapshot, choose_template

    snapshot = Snapshot.take(ops.client)
    template = choose_template(ops.client, snapshot, int(record.template_vmid),
                               set(ops.catalog.names))  # fmt: skip
    plan = _plan_from_journal(record, entry, template)
    try:
        config = ops.client.vm_config(entry.node, entry.vmid)
    except VmMissing:
        config = None
    if config is not None and config.get("name") != plan.name:
        raise SoltiError(f"VM {entry.vmid} is not the one the rebuild made; left alone")

    def step(name: str, detail: str | None = None) -> Any:
        return contextlib.nullcontext()

    _make(ops, plan, record.actor, step=step, exists=config is not None)
    RebuildJournal(ops.audit).mark(entry.audit_id, finished=True)
    return f"VM {entry.vmid} re-made from template {template.vmid}"


def _plan_from_journal(record: Any, entry: JournalEntry, template: Any) -> RebuildPlan:
    from solti.provisioning.sizes import Size

    restore = entry.restore
    params = record.params or {}
    disk = Size(restore["disk"]) if restore.get("disk") else None
    grow = disk is not None and (template.disk_size is None or template.disk_size < disk)
    plan = RebuildPlan(
        vmid=entry.vmid, name=str(restore.get("name") or record.name), node=entry.node,
        owner=str(params.get("owner") or record.actor), status=str(restore.get("status")),
        old_template_name=params.get("from_template_name"), template=template,
        full=bool(params.get("full")), target_storage=params.get("target_storage"),
        memory=int(str(restore["memory"]).split(",")[0]) if restore.get("memory") else None,
        disk_before=disk, disk_after=disk if grow else template.disk_size, resize=grow,
    )  # fmt: skip
    plan.restore = restore
    return plan


def _vm(plan: RebuildPlan, status: str) -> VmInfo:
    template = plan.template
    return VmInfo(
        vmid=plan.vmid, name=plan.name, node=plan.node, status=status,
        template_vmid=template.vmid, template_name=template.name,
        template_version=template.version, owner=plan.owner, cores=plan.cores,
        memory=plan.memory, disk_size=plan.disk_after, tags=plan.tags,
    )  # fmt: skip


def _reused(ops: Collaborators, vmid: int, record: Any) -> RebuildResult:
    """An earlier run of the same request id: answered, nothing done again."""
    params = record.params or {}
    from solti.provisioning.models import TemplateInfo

    template = TemplateInfo(vmid=int(record.template_vmid or 0), name=record.template_name or "?",
                            node=record.node or "", version=record.template_version)  # fmt: skip
    plan = RebuildPlan(vmid=vmid, name=record.name or f"VM {vmid}", node=record.node or "",
                       owner=str(params.get("owner") or record.actor), status="unknown",
                       old_template_vmid=params.get("from_template_vmid"),
                       old_template_name=params.get("from_template_name"),
                       old_version=params.get("from_version"), template=template)  # fmt: skip
    return RebuildResult(vm=_vm(plan, "unknown"), plan=plan, audit_id=record.id, reused=True)


def _audit_params(plan: RebuildPlan, selector: str | int | None) -> dict[str, Any]:
    """What was asked and kept; keys by fingerprint (their text is in the journal only)."""
    return {
        "template": selector,
        "owner": plan.owner,
        "from_template_vmid": plan.old_template_vmid,
        "from_template_name": plan.old_template_name,
        "from_version": plan.old_version,
        "full": plan.full,
        "target_storage": plan.target_storage,
        "cores": plan.cores,
        "memory": plan.memory,
        "disk": str(plan.disk_after) if plan.disk_after else None,
        "resize": plan.resize,
        "macaddr": plan.macaddr,
        "ipconfig0": plan.ipconfig,
        "nameserver": plan.nameserver,
        "searchdomain": plan.searchdomain,
        "user": plan.user,
        "ssh_keys": plan.ssh_key_fingerprints,
        **({"resumes": plan.resumes} if plan.resumes is not None else {}),
    }
