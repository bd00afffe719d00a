"""Planning a VM create: every decision made from reads only (a dry run shows the plan).

One ``/cluster/resources`` snapshot decides template, VMID and name together, and counts the
requester's VMs for the bot's quota; one config read verifies the template and gives its disk
size and version. ``decide`` is the pure part. A plan made here can be carried to where it is
built (``vm_create.create_vm(plan=...)``): ``plan_problem`` says when it no longer fits the request.
"""

from __future__ import annotations

from typing import Any, TypeVar

from solti.provisioning.cloudinit import cloudinit_params, validate_ssh_keys
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.cross_node import cross_node_refusal
from solti.provisioning.errors import Conflict, InvalidRequest
from solti.provisioning.inventory import Snapshot, choose_template
from solti.provisioning.models import TemplateInfo, VmCreateRequest, VmPlan
from solti.provisioning.rules import (
    choose_vmid,
    default_vm_name,
    disk_resize_needed,
    unique_name,
)

__all__ = ["decide", "distribution_of", "plan_problem", "plan_vm", "request_keys"]

_T = TypeVar("_T", int, str)


def distribution_of(template: Any) -> str:
    if template.distribution:
        return str(template.distribution)
    name = str(template.name)
    return name.removesuffix("-template") if name.endswith("-template") else "vm"


def _user(ops: Collaborators, request: VmCreateRequest, distribution: str) -> str:
    if request.user:
        return request.user
    if distribution in ops.catalog:
        ssh_user = ops.catalog.get(distribution).ssh_user
        if ssh_user:
            return ssh_user
    return ops.defaults.ssh_user or "solti"


def request_keys(ops: Collaborators, request: VmCreateRequest) -> list[str]:
    return [*request.ssh_keys, *ops.defaults.ssh_keys]


def refuse_cross_node(ops: Collaborators, request: VmCreateRequest, template: TemplateInfo) -> None:
    """PVE's refusal of a clone to another node, said in the plan (``cross_node``)."""
    if request.node and request.node != template.node:
        refusal = cross_node_refusal(
            ops.client, template.node, template.vmid, request.node, request.target_storage
        )
        if refusal:
            raise InvalidRequest(refusal, field="node")


def plan_vm(
    ops: Collaborators,
    request: VmCreateRequest,
    *,
    actor: str | None = None,
    prefer_vmid: int | None = None,
    prefer_name: str | None = None,
) -> VmPlan:
    """Every decision of a create, made with reads only (a dry run prints this).

    One ``/cluster/resources`` snapshot serves the VMID, the name and, with ``actor``, the
    count of VMs that person owns (``owned_by_actor``, the bot's quota); one config read
    verifies the template. ``prefer_vmid``/``prefer_name`` are what a person was shown
    earlier (a dry run): kept when the request leaves them open and they are still free.
    """
    snapshot = Snapshot.take(ops.client)
    template = choose_template(ops.client, snapshot, request.template, set(ops.catalog.names))
    refuse_cross_node(ops, request, template)
    if not request.name:  # a default name must not repeat one given seconds ago
        snapshot.complete_vm_names(ops.client)
    plan = decide(
        ops,
        request,
        snapshot,
        template,
        ops.reservations.vmids(),
        ops.reservations.names(),
        prefer_vmid=prefer_vmid,
        prefer_name=prefer_name,
    )
    if actor is None:
        return plan
    owned = ops.audit.count_active_vms(actor, snapshot.non_templates())
    return plan.model_copy(update={"owned_by_actor": owned})


def decide(
    ops: Collaborators,
    request: VmCreateRequest,
    snapshot: Snapshot,
    template: TemplateInfo,
    reserved_ids: set[int] | None = None,
    reserved_names: set[str] | None = None,
    *,
    prefer_vmid: int | None = None,
    prefer_name: str | None = None,
) -> VmPlan:
    """The pure part of planning: VMID, name, user, network, disk, from known facts."""
    keys = validate_ssh_keys(request_keys(ops, request))
    if request.vmid is not None and request.vmid in (reserved_ids or set()):
        raise Conflict(f"vmid: VM {request.vmid} is being created right now; choose another id")
    used = snapshot.used_ids() | (reserved_ids or set())
    vmid = choose_vmid(used, request.vmid if request.vmid is not None else _free(prefer_vmid, used))
    distribution = distribution_of(template)
    taken = snapshot.names() | (reserved_names or set())
    name = request.name or _free(prefer_name, taken)
    name = name or unique_name(default_vm_name(distribution, ops.today()), taken)
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


def _free(preferred: _T | None, taken: set[_T]) -> _T | None:
    """What was shown before, while nobody took it since (None: choose anew)."""
    return preferred if preferred is not None and preferred not in taken else None


def plan_problem(ops: Collaborators, request: VmCreateRequest, plan: VmPlan) -> str | None:
    """Why ``plan`` cannot be the plan of ``request`` (None: it can).

    A plan is carried from where it was shown to where it is built; what the request fixes
    (keys, VMID, name, clone mode, network, node) must be what the plan says, or the VM
    would not be the one asked for.
    """
    keys = [k.fingerprint for k in validate_ssh_keys(request_keys(ops, request))]
    checks = (
        ("ssh_keys", keys == plan.ssh_key_fingerprints),
        ("vmid", request.vmid in (None, plan.vmid)),
        ("name", request.name in (None, plan.name)),
        ("full", request.full == plan.full),
        ("node", request.node in (None, plan.node)),
        ("target_storage", request.target_storage == plan.target_storage),
    )
    wrong = [field for field, ok in checks if not ok]
    return f"the plan differs from the request in {', '.join(wrong)}" if wrong else None
