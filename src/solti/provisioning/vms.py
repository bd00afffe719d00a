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

import time
from collections.abc import Callable
from typing import Any

from solti.provisioning.cloudinit import cloudinit_params, validate_ssh_keys
from solti.provisioning.cross_node import cross_node_refusal
from solti.provisioning.errors import Conflict, InvalidRequest, SoltiError
from solti.provisioning.inventory import SOLTI_TAG, Snapshot, choose_template
from solti.provisioning.models import (
    Progress,
    TemplateInfo,
    VmCreateRequest,
    VmCreateResult,
    VmInfo,
    VmPlan,
)
from solti.provisioning.ops import Ops, Steps, describe_failure, elapsed_ms
from solti.provisioning.pve import VmidTaken
from solti.provisioning.rules import (
    choose_vmid,
    default_vm_name,
    disk_resize_needed,
    next_free_after,
    normalize_tags,
    unique_name,
)

__all__ = ["CREATE_STEPS", "create_vm", "plan_vm"]

CREATE_STEPS = ["plan", "clone", "configure", "resize", "start"]
VMID_ATTEMPTS = 5


def _distribution(template: Any) -> str:
    if template.distribution:
        return str(template.distribution)
    name = str(template.name)
    return name.removesuffix("-template") if name.endswith("-template") else "vm"


def _user(ops: Ops, request: VmCreateRequest, distribution: str) -> str:
    if request.user:
        return request.user
    if distribution in ops.catalog:
        ssh_user = ops.catalog.get(distribution).ssh_user
        if ssh_user:
            return ssh_user
    return ops.defaults.ssh_user or "solti"


def _keys(ops: Ops, request: VmCreateRequest) -> list[str]:
    return [*request.ssh_keys, *ops.defaults.ssh_keys]


def plan_vm(
    ops: Ops,
    request: VmCreateRequest,
    snapshot: Snapshot | None = None,
    *,
    reserved_ids: set[int] | None = None,
    reserved_names: set[str] | None = None,
) -> VmPlan:
    """Every decision of a create, made with reads only (a dry run prints this)."""
    snapshot = snapshot or Snapshot.take(ops.client)
    template = choose_template(ops.client, snapshot, request.template, set(ops.catalog.names))
    _refuse_cross_node(ops, request, template)
    if not request.name:
        snapshot.complete_vm_names(ops.client)
    return decide(ops, request, snapshot, template, reserved_ids, reserved_names)


def _refuse_cross_node(ops: Ops, request: VmCreateRequest, template: TemplateInfo) -> None:
    """PVE's refusal of a clone to another node, said in the plan (``cross_node``)."""
    if request.node and request.node != template.node:
        refusal = cross_node_refusal(
            ops.client, template.node, template.vmid, request.node, request.target_storage
        )
        if refusal:
            raise InvalidRequest(refusal, field="node")


def decide(
    ops: Ops,
    request: VmCreateRequest,
    snapshot: Snapshot,
    template: TemplateInfo,
    reserved_ids: set[int] | None = None,
    reserved_names: set[str] | None = None,
) -> VmPlan:
    """The pure part of planning: VMID, name, user, network, disk, from known facts."""
    keys = validate_ssh_keys(_keys(ops, request))
    used = snapshot.used_ids() | (reserved_ids or set())
    if request.vmid is not None and request.vmid in (reserved_ids or set()):
        raise Conflict(f"vmid: VM {request.vmid} is being created right now; choose another id")
    vmid = choose_vmid(used, request.vmid)
    distribution = _distribution(template)
    if request.name:
        name = request.name
    else:
        base = default_vm_name(distribution, ops.today())
        name = unique_name(base, snapshot.names() | (reserved_names or set()))
    user = _user(ops, request, distribution)
    params = cloudinit_params(
        user,
        [k.line for k in keys],
        ip=request.ip,
        gw=request.gw,
        nameserver=request.nameserver or ops.defaults.nameserver,
        searchdomain=request.searchdomain or ops.defaults.searchdomain,
    )
    minimum = request.disk or ops.defaults.disk
    before = template.disk_size
    grow_to = disk_resize_needed(before, minimum) if before is not None else minimum
    node = request.node or template.node
    if request.target_storage and not request.full:
        raise InvalidRequest(
            "a target storage is only possible for a full clone; add --full", field="target_storage"
        )
    return VmPlan(
        template=template,
        node=node,
        vmid=vmid,
        name=name,
        full=request.full,
        target_storage=request.target_storage,
        cores=request.cores or ops.defaults.cores,
        memory=request.memory or ops.defaults.memory,
        disk_before=before,
        disk_after=grow_to or before,
        resize=grow_to is not None,
        user=user,
        ssh_key_fingerprints=[k.fingerprint for k in keys],
        ipconfig=params["ipconfig0"],
        nameserver=params.get("nameserver"),
        searchdomain=params.get("searchdomain"),
    )


def _config_params(ops: Ops, plan: VmPlan, request: VmCreateRequest, actor: str) -> dict[str, Any]:
    distribution = _distribution(plan.template)
    params = cloudinit_params(
        plan.user,
        _keys(ops, request),
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


def _reused(ops: Ops, record: Any) -> VmCreateResult | None:
    if record.result == "running":
        raise Conflict(f"request {record.request_id} is still running (VM {record.vmid})")
    if record.result != "ok" or record.vmid is None:
        return None
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


def create_vm(
    ops: Ops,
    request: VmCreateRequest,
    *,
    progress: Callable[[Progress], None] | None = None,
    actor: str = "unknown",
    via: str = "cli",
) -> VmCreateResult:
    """Make one VM from a template; safe to re-run with the same ``request_id``."""
    if request.request_id:
        previous = ops.audit.find_by_request_id(request.request_id)
        if previous is not None:
            reused = _reused(ops, previous)
            if reused is not None:
                return reused
    started = time.monotonic()
    steps = Steps(CREATE_STEPS, progress, operation="vm create")
    try:
        with steps("plan"):
            snapshot = Snapshot.take(ops.client)
            template = choose_template(
                ops.client, snapshot, request.template, set(ops.catalog.names)
            )
            _refuse_cross_node(ops, request, template)
            if not request.name:  # a default name must not repeat one given seconds ago
                snapshot.complete_vm_names(ops.client)
            holder: dict[str, VmPlan] = {}

            def choose(ids: set[int], names: set[str]) -> tuple[int, str | None]:
                holder["plan"] = decide(ops, request, snapshot, template, ids, names)
                return holder["plan"].vmid, holder["plan"].name

            ops.reservations.claim(choose)
            plan = holder["plan"]
    except SoltiError as exc:
        if not request.dry_run:
            ops.audit.record(
                actor=actor,
                via=via,
                action="vm create",
                vmid=request.vmid,
                name=request.name,
                params={"template": request.template},
                result="failed",
                error=describe_failure(exc, "plan", None),
                request_id=request.request_id,
            )
        raise
    if request.dry_run:
        ops.reservations.release(plan.vmid, plan.name)
        vm = VmInfo(vmid=plan.vmid, name=plan.name, node=plan.node, status="planned")
        return VmCreateResult(vm=vm, plan=plan)
    audit_id = ops.audit.start(
        actor=actor,
        via=via,
        action="vm create",
        vmid=plan.vmid,
        name=plan.name,
        node=plan.node,
        template_vmid=template.vmid,
        template_name=template.name,
        template_version=template.version,
        params=_audit_params(request, plan),
        request_id=request.request_id,
    )
    vmid, created = plan.vmid, False
    try:
        used = snapshot.used_ids()
        for attempt in range(1, VMID_ATTEMPTS + 1):
            try:
                with steps("clone", f"VM {vmid} from {template.vmid}"):
                    upid = ops.client.clone(
                        template.node,
                        template.vmid,
                        vmid,
                        name=plan.name,
                        full=plan.full,
                        storage=plan.target_storage,
                        target=plan.node if plan.node != template.node else None,
                    )
                    created = True
                    ops.waiter.wait(upid, node=template.node)
                break
            except VmidTaken:
                if request.vmid is not None or attempt == VMID_ATTEMPTS:
                    raise
                used.add(vmid)
                old = vmid
                vmid, _ = ops.reservations.claim(
                    lambda ids, _n, old=old: (next_free_after(used | ids, old), None)
                )
                ops.reservations.release(old)
        node = plan.node
        params = _config_params(ops, plan, request, actor)
        with steps("configure", "cloud-init, cores, memory, tags"):
            ops.until_unlocked(lambda: ops.client.set_config(node, vmid, **params))
        with steps("resize", _resize_detail(plan)):
            if plan.resize and plan.disk_after is not None:
                ops.waiter.wait(
                    ops.client.resize(node, vmid, "scsi0", plan.disk_after.pve()), node=node
                )
        status = "stopped"
        start = ops.defaults.start_after_create
        with steps("start", f"power on VM {vmid}" if start else "skipped (start_after_create off)"):
            if ops.defaults.start_after_create:
                ops.waiter.wait(ops.client.start(node, vmid), node=node)
                status = "running"
    except BaseException as exc:
        cleanup = None
        if created and not request.keep_on_failure:
            cleanup = ops.remove_half_made(plan.node, vmid)
        elif created:
            cleanup = f"VM {vmid} kept for inspection (keep_on_failure)"
        error = describe_failure(exc, steps.current, cleanup)
        ops.audit.finish(
            audit_id, "failed", error=error, vmid=vmid, duration_ms=elapsed_ms(started)
        )
        if isinstance(exc, SoltiError):
            exc.message = error
        raise
    finally:
        ops.reservations.release(vmid, plan.name)
        ops.reservations.release(plan.vmid)
    ops.audit.finish(audit_id, "ok", vmid=vmid, duration_ms=elapsed_ms(started))
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
    final_plan = plan.model_copy(update={"vmid": vmid})
    return VmCreateResult(
        vm=vm, plan=final_plan, audit_id=audit_id, duration_ms=elapsed_ms(started)
    )


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
    }
