"""Planning a VM create: every decision made from reads only (a dry run shows the plan).

One ``/cluster/resources`` snapshot decides template, node (``placement``), VMID and name
together, and counts the requester's VMs for the bot's quota; one config read verifies the
template and gives its disk size, version and storages. ``decide`` is the pure part. A plan
made here can be carried to where it is built (``vm_create.create_vm(plan=...)``):
``plan_problem`` says when it no longer fits the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from solti.provisioning.cloudinit import cloudinit_params, validate_ssh_keys
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import Conflict, InvalidRequest
from solti.provisioning.fleet import asked_of, check_quota, quotas_set, sized, usage_of
from solti.provisioning.inventory import (
    Snapshot,
    choose_template,
    copies_on_nodes,
    template_from_config,
)
from solti.provisioning.models import TemplateInfo, VmCreateRequest, VmPlan
from solti.provisioning.placement import (
    Choice,
    Reach,
    check_asked_node,
    choose_node,
    keep_shown,
    node_facts,
    reach_of,
    shown_refusal,
    solti_vm_counts,
    storage_facts,
    with_planned,
)
from solti.provisioning.rules import (
    choose_vmid,
    default_vm_name,
    disk_resize_needed,
    unique_name,
)

__all__ = [
    "decide",
    "distribution_of",
    "place",
    "plan_problem",
    "plan_vm",
    "read_for_plan",
    "request_keys",
    "same_build",
]

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


def read_for_plan(
    ops: Collaborators, request: VmCreateRequest, prefer_node: str | None = None
) -> tuple[Snapshot, TemplateInfo, Choice | None]:
    """The reads of a plan: one snapshot, the template's config, the node (``placement``;
    ``prefer_node``: the node shown before, kept when still eligible).

    A copy of the template on another node costs one more config read, only when the VM
    goes there; a default name on a cluster with VMs too new for the RRD cache one live list
    per online node (``Snapshot.complete_vm_names``).
    """
    snapshot = Snapshot.take(ops.client)
    template = choose_template(ops.client, snapshot, request.template, set(ops.catalog.names))
    template, choice = place(ops, request, snapshot, template, prefer_node=prefer_node)
    if not request.name:  # a default name must not repeat one given seconds ago
        snapshot.complete_vm_names(ops.client)
    return snapshot, template, choice


def place(
    ops: Collaborators,
    request: VmCreateRequest,
    snapshot: Snapshot,
    template: TemplateInfo,
    *,
    prefer_node: str | None = None,
) -> tuple[TemplateInfo, Choice | None]:
    """The node of the VM and the template copy to clone there (``placement``).

    The facts are the snapshot's node and storage rows; a node the chosen template cannot
    reach (local storage) can still take the VM from its own copy of the same build, whose
    config is read only when that node is chosen. No node rows (a token without the right to
    see them): the template's node or ``--node``, unchecked, as before placement existed.
    ``prefer_node`` (the node a dry run showed) is kept when the request names no node and
    it is still eligible by the same rules (``placement.shown_refusal``); otherwise the
    node is chosen anew and the reason says why the shown one was not kept.
    """
    nodes = node_facts(snapshot.nodes)
    if not nodes:
        return template, None
    reach = reach_of(
        template.node, template.storages, storage_facts(snapshot.storages), nodes,
        request.target_storage,
    )  # fmt: skip
    copies = copies_on_nodes(snapshot, template, request.template, set(ops.catalog.names))
    via_copy = {n for n in copies if reach.why_not.get(n) is not None}
    choice = _choose(ops, request, snapshot, template, reach, via_copy, prefer_node)
    if choice.node not in via_copy:
        return template, choice
    light = copies[choice.node]
    config = snapshot.template_config(ops.client, light.node, light.vmid)
    copy = template_from_config(light.vmid, light.node, config)
    if copy.status == "template" and same_build(copy, template):
        return copy, Choice(choice.node, f"{choice.reason}; from its copy, VMID {copy.vmid}")
    other = f"{choice.node!r} holds VMID {copy.vmid}, not a copy of build {_build_label(template)}"
    if request.node:
        fix = _fix(template, choice.node, ops.catalog.names)
        raise InvalidRequest(f"{other}; {fix}", field="node")
    again = _choose(ops, request, snapshot, template, reach, via_copy - {choice.node})
    if again.node in via_copy:  # one more candidate copy: not read, the template's node it is
        again = _choose(ops, request, snapshot, template, reach, set())
    return template, Choice(again.node, f"{again.reason} ({other})")


def _choose(
    ops: Collaborators,
    request: VmCreateRequest,
    snapshot: Snapshot,
    template: TemplateInfo,
    reach: Reach,
    via_copy: set[str],
    prefer_node: str | None = None,
) -> Choice:
    nodes = with_planned(node_facts(snapshot.nodes), snapshot.planned)
    able = Reach({n: None if n in via_copy else why for n, why in reach.why_not.items()})
    label = f"template {template.vmid} ({template.name})"
    policy = ops.fleet.placement
    if request.node:
        fix = _fix(template, request.node, ops.catalog.names)
        return check_asked_node(
            request.node, nodes, able, template_label=label, fix=fix, policy=policy
        )
    memory_mib = sized(ops.fleet, ops.defaults, request)[1]
    refusal = None
    if prefer_node:
        refusal = shown_refusal(prefer_node, nodes, able, policy, template_node=template.node)
        if refusal is None:
            return keep_shown(prefer_node, nodes, memory_mib)
    chosen = choose_node(
        policy,
        nodes,
        able,
        template_node=template.node,
        memory_mib=memory_mib,
        solti_vms=solti_vm_counts(snapshot.entries, planned=snapshot.planned),
        template_label=label,
    )
    if refusal is None:
        return chosen
    return Choice(chosen.node, f"{chosen.reason} (not {prefer_node}, shown before: {refusal})")


def same_build(copy: TemplateInfo, template: TemplateInfo) -> bool:
    """Copies of one build: same distribution and version (and checksum, when both say)."""
    if copy.distribution != template.distribution or copy.version != template.version:
        return False
    return not (copy.checksum and template.checksum) or copy.checksum == template.checksum


def _build_label(template: TemplateInfo) -> str:
    return f"{template.distribution or template.name} {template.version or '(version unknown)'}"


def _fix(template: TemplateInfo, node: str, known: Iterable[str] = ()) -> str:
    """What would let ``node`` take a clone: shared storage, or a copy of the template there
    (``known``: the catalog's distributions, for a template whose notes name none)."""
    shared = f"put the template on storage shared with {node}"
    dist = template.distribution or distribution_of(template)
    if dist in (template.distribution, *known):
        build = f"solti template build {dist} --node {node}"
        return f"{shared}, or build a copy there: `{build}`"
    return f"{shared}, or make a copy of it on {node}"


def plan_vm(
    ops: Collaborators,
    request: VmCreateRequest,
    *,
    actor: str | None = None,
    prefer_vmid: int | None = None,
    prefer_name: str | None = None,
    prefer_node: str | None = None,
) -> VmPlan:
    """Every decision of a create, made with reads only (a dry run prints this).

    One ``/cluster/resources`` snapshot serves the VMID, the name and, with ``actor``, the
    count of VMs that person owns (``owned_by_actor``, the bot's quota); one config read
    verifies the template. ``prefer_vmid``/``prefer_name`` are what a person was shown
    earlier (a dry run): kept when the request leaves them open and they are still free;
    ``prefer_node`` likewise, when the node is still eligible (``place``).
    """
    taken_at = ops.reservations.now()
    snapshot, template, choice = read_for_plan(ops, request, prefer_node)
    plan = decide(
        ops,
        request,
        snapshot,
        template,
        ops.reservations.vmids(),
        ops.reservations.names(),
        prefer_vmid=prefer_vmid,
        prefer_name=prefer_name,
        choice=choice,
    )
    if actor is None:
        return plan
    if quotas_set(ops.fleet.quotas):  # refused here too, so a dry run says what a create would
        owned = check_quota(ops, actor, asked_of(plan), snapshot, taken_at).count
    else:
        owned = usage_of(ops.audit, actor, snapshot).count
    planned = plan.model_copy(update={"owned_by_actor": owned})
    planned._quota_basis = (snapshot, taken_at)
    return planned


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
    choice: Choice | None = None,
) -> VmPlan:
    """The pure part of planning: VMID, name, user, network, disk, from known facts;
    ``choice`` is the node ``place`` chose (None: ``--node`` or the template's node)."""
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
    cores, memory, minimum = sized(ops.fleet, ops.defaults, request)
    before = template.disk_size
    grow_to = disk_resize_needed(before, minimum) if before is not None else minimum
    node = choice.node if choice is not None else request.node or template.node
    if request.target_storage and not request.full:
        raise InvalidRequest(
            "a target storage is only possible for a full clone; add --full", field="target_storage"
        )
    return VmPlan(
        template=template,
        node=node,
        placement=choice.reason if choice is not None else None,
        vmid=vmid,
        name=name,
        full=request.full,
        target_storage=request.target_storage,
        cores=cores,
        memory=memory,
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
