"""VM create: plan from one snapshot, clone, configure cloud-init, grow the disk, start.

The create is shaped by its request budget (at most 6 API requests plus task polls):
1. ``GET /cluster/resources`` - one snapshot decides template, VMID and name together;
2. ``GET .../config`` of the template - verifies it is a template, gives disk size and version;
3. ``POST .../clone`` (linked by default);
4. ``PUT .../config`` - cloud-init user, keys, network, cores, memory, tags and notes in ONE
   synchronous write (retried while the clone's lock is still held);
5. ``PUT .../resize`` - only when the template disk is smaller than the minimum;
6. ``POST .../status/start`` - the bot "gives a VM", so the VM is started and ready to boot
   cloud-init; ``defaults.start_after_create`` turns this off.

Safety: everything that can be checked (keys, network, names, VMID) is checked before the
clone. A lost VMID race (``config file already exists``) takes the next free id, a bounded
number of times. Any failure after the clone removes the half-made VM unless the caller keeps
it, and the error and the audit record name the step and PVE's message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solti.provisioning.cloudinit import cloudinit_params
from solti.provisioning.collaborators import Collaborators, elapsed_ms
from solti.provisioning.errors import Conflict, InvalidRequest, SoltiError
from solti.provisioning.fleet import hold_quota
from solti.provisioning.inventory import SOLTI_TAG, Snapshot
from solti.provisioning.models import Progress, VmCreateRequest, VmCreateResult, VmInfo, VmPlan
from solti.provisioning.operation import Operation
from solti.provisioning.rules import next_free_after, normalize_tags, unique_name
from solti.provisioning.vm_plan import (
    decide,
    distribution_of,
    plan_problem,
    plan_vm,
    read_for_plan,
    request_keys,
)

__all__ = ["CREATE_STEPS", "create_vm", "plan_vm"]

CREATE_STEPS = ["plan", "clone", "configure", "resize", "start"]


def create_vm(
    ops: Collaborators,
    request: VmCreateRequest,
    *,
    plan: VmPlan | None = None,
    progress: Callable[[Progress], None] | None = None,
    actor: str = "unknown",
    via: str = "cli",
    approver: str | None = None,
) -> VmCreateResult:
    """Make one VM from a template; safe to re-run with the same ``request_id``.

    ``plan`` is the plan a person was shown (``plan_vm`` of the same request): it is built
    as it is, without reading the cluster again; without one the create plans itself.
    """
    op = Operation(ops, "vm create", actor=actor, via=via, request_id=request.request_id,
                   steps=CREATE_STEPS, progress=progress, approver=approver)  # fmt: skip
    earlier = op.earlier()
    if earlier is not None and earlier.vmid is not None:
        return _reused(earlier)
    plan, used, held = _planned(op, request, plan)
    if request.dry_run:
        op.release_claims()
        vm = VmInfo(vmid=plan.vmid, name=plan.name, node=plan.node, status="planned")
        return VmCreateResult(vm=vm, plan=plan)
    try:
        vmid, status, params = _build(op, request, plan, used)
    except BaseException:
        if held is not None:
            ops.reservations.settle(held, None)
        raise
    if held is not None:
        ops.reservations.settle(held, vmid)
    template = plan.template
    vm = VmInfo(
        vmid=vmid,
        name=plan.name,
        node=plan.node,
        status=status,
        template_vmid=template.vmid,
        template_name=template.name,
        template_version=template.version,
        owner=actor,
        created_at=ops.now(),
        cores=plan.cores,
        memory=plan.memory,
        disk_size=plan.disk_after,
        tags=params["tags"].split(";"),
    )
    return VmCreateResult(
        vm=vm,
        plan=plan.model_copy(update={"vmid": vmid}),
        audit_id=op.audit_id,
        duration_ms=elapsed_ms(op.started),
    )


def _build(
    op: Operation, request: VmCreateRequest, plan: VmPlan, used: set[int] | None
) -> tuple[int, str, dict[str, Any]]:
    """Clone, configure, resize and start ``plan`` inside its audit record."""
    template = plan.template
    with op.audited(
        vmid=plan.vmid,
        name=plan.name,
        node=plan.node,
        template_vmid=template.vmid,
        template_name=template.name,
        template_version=template.version,
        params=_audit_params(request, plan),
    ):
        vmid = _clone(op, request, plan, used)
        status, params = _configure_and_start(op, request, plan, vmid)
        op.done(vmid=vmid)
    return vmid, status, params


def _reused(record: Any) -> VmCreateResult:
    """What an earlier create of the same request made, answered instead of a second VM."""
    vm = VmInfo(
        vmid=int(record.vmid),
        name=record.name or f"VM {record.vmid}",
        node=record.node or "",
        status="unknown",
        template_vmid=record.template_vmid,
        template_name=record.template_name,
        template_version=record.template_version,
        owner=record.actor,
        created_at=record.at,
    )
    return VmCreateResult(vm=vm, audit_id=record.id, reused=True)


def _planned(
    op: Operation, request: VmCreateRequest, plan: VmPlan | None
) -> tuple[VmPlan, set[int] | None, Any]:
    """The ``plan`` step: the plan (made now, or the one shown) with its VMID and name
    claimed; the VMIDs in use when it was made now; its quota hold (``fleet.hold_quota``:
    counted with every create in flight, atomically). A failed plan is recorded as refused
    and its claims released."""
    try:
        with op.step("plan"):
            if plan is None:
                plan, used = _claim_new_plan(op, request)
            else:
                plan, used = _claim_shown_plan(op, request, plan), None
            held = None if request.dry_run else hold_quota(op.ops, op.actor, plan)
            return plan, used, held
    except SoltiError as exc:
        op.release_claims()
        if not request.dry_run:
            op.refused(exc, "plan", vmid=request.vmid, name=request.name,
                       params={"template": request.template})  # fmt: skip
        raise


def _claim_new_plan(op: Operation, request: VmCreateRequest) -> tuple[VmPlan, set[int]]:
    """Plan from one snapshot and reserve the plan's VMID and name in one step."""
    ops = op.ops
    taken_at = ops.reservations.now()
    snapshot, template, node = read_for_plan(ops, request)
    chosen: list[VmPlan] = []

    def choose(ids: set[int], names: set[str]) -> tuple[int, str | None]:
        chosen.append(decide(ops, request, snapshot, template, ids, names, choice=node))
        return chosen[-1].vmid, chosen[-1].name

    op.claim(choose)
    chosen[-1]._quota_basis = (snapshot, taken_at)  # the quota is counted from it, too
    return chosen[-1], snapshot.used_ids()


def _claim_shown_plan(op: Operation, request: VmCreateRequest, plan: VmPlan) -> VmPlan:
    """Reserve the VMID and name of a plan made earlier (shown to a person).

    Another create of this process may have taken them since: then the next free id after
    it, and the name with a suffix (a requested VMID is refused instead). Another process
    is caught by the clone itself (``VmidTaken``) and retried.
    """
    problem = plan_problem(op.ops, request, plan)
    if problem:
        raise InvalidRequest(f"plan: {problem}")

    def choose(ids: set[int], names: set[str]) -> tuple[int, str | None]:
        vmid, name = plan.vmid, plan.name
        if vmid in ids:
            if request.vmid is not None:
                raise Conflict(f"vmid: VM {vmid} is being created right now; choose another id")
            vmid = next_free_after(ids, vmid)
        if name in names and not request.name:
            name = unique_name(name, names)
        return vmid, name

    vmid, name = op.claim(choose)
    return plan.model_copy(update={"vmid": vmid, "name": name or plan.name})


def _clone(op: Operation, request: VmCreateRequest, plan: VmPlan, used: set[int] | None) -> int:
    """The ``clone`` step, on the claimed VMID or, lost to another process, the next free."""
    ops, template = op.ops, plan.template
    known = used

    def make(vmid: int) -> None:
        upid = ops.client.clone(
            template.node,
            template.vmid,
            vmid,
            name=plan.name,
            full=plan.full,
            storage=plan.target_storage,
            target=plan.node if plan.node != template.node else None,
        )
        if request.keep_on_failure:
            op.undo_with(lambda: f"VM {vmid} kept for inspection (keep_on_failure)")
        else:
            op.undo_with(lambda: ops.remove_half_made(plan.node, vmid, plan.name))
        ops.waiter.wait(upid, node=template.node)

    def next_free(reserved: set[int], taken: int) -> int:
        nonlocal known
        if known is None:  # a plan made earlier: what is taken now
            known = Snapshot.take(ops.client).used_ids()
        known.add(taken)
        return next_free_after(known | reserved, taken)

    return op.with_free_vmid(
        "clone",
        make,
        detail=lambda vmid, _taken: (
            f"VM {vmid} from {template.vmid}"
            + (f", node {plan.placement}" if plan.placement else "")
        ),
        next_free=None if request.vmid is not None else next_free,
    )


def _configure_and_start(
    op: Operation, request: VmCreateRequest, plan: VmPlan, vmid: int
) -> tuple[str, dict[str, Any]]:
    """The ``configure``, ``resize`` and ``start`` steps; the VM's status and its config."""
    ops, node = op.ops, plan.node
    params = _config_params(ops, plan, request, op.actor)
    with op.step("configure", "cloud-init, cores, memory, tags"):
        ops.until_unlocked(lambda: ops.client.set_config(node, vmid, **params))
    with op.step("resize", _resize_detail(plan)):
        if plan.resize and plan.disk_after is not None:
            ops.waiter.wait(
                ops.client.resize(node, vmid, "scsi0", plan.disk_after.pve()), node=node
            )
    start = ops.defaults.start_after_create
    with op.step("start", f"power on VM {vmid}" if start else "skipped (start_after_create off)"):
        if start:
            ops.waiter.wait(ops.client.start(node, vmid), node=node)
            return "running", params
    return "stopped", params


def _config_params(
    ops: Collaborators, plan: VmPlan, request: VmCreateRequest, actor: str
) -> dict[str, Any]:
    distribution = distribution_of(plan.template)
    params = cloudinit_params(
        plan.user,
        request_keys(ops, request),
        ip=request.ip,
        gw=request.gw,
        nameserver=plan.nameserver,
        searchdomain=plan.searchdomain,
    )
    version = f" {plan.template.version}" if plan.template.version else ""
    if plan.template.balloon and plan.template.balloon > plan.memory:
        # qemu-server ``$update_vm_api``: "balloon value too large (must be smaller than
        # assigned memory)" unless the balloon comes down with the memory.
        params["balloon"] = plan.memory
    params["ciupgrade"] = int(ops.defaults.upgrade_on_first_boot)
    params.update(
        cores=plan.cores,
        memory=str(plan.memory),
        tags=";".join(normalize_tags([SOLTI_TAG, distribution])),
        description=(
            f"Made by solti for {actor} from template {plan.template.vmid} "
            f"({plan.template.name}{version})."
        ),
    )
    return params


def _resize_detail(plan: VmPlan) -> str:
    """What the resize step does, as a phrase (a bare "no" read oddly as ``resize — no``)."""
    if plan.resize:
        return f"{plan.disk_before} -> {plan.disk_after}"
    if plan.disk_before is not None:
        return f"not needed (disk is already {plan.disk_before})"
    return "not needed"


def _audit_params(request: VmCreateRequest, plan: VmPlan) -> dict[str, Any]:
    """What was asked and decided; keys are recorded by fingerprint, never by content."""
    return {
        "template": request.template,
        "full": plan.full,
        "cores": plan.cores,
        "memory": plan.memory,
        "disk": str(plan.disk_after) if plan.disk_after else None,
        "resize": plan.resize,
        "user": plan.user,
        "ssh_keys": plan.ssh_key_fingerprints,
        "ipconfig0": plan.ipconfig,
        "nameserver": plan.nameserver,
        "target_storage": plan.target_storage,
        **({"placement": plan.placement} if plan.placement else {}),  # why this node
        # reconcile keeps such a VM when its create is interrupted
        **({"keep_on_failure": True} if request.keep_on_failure else {}),
    }
