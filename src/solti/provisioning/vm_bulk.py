"""``vm create TEMPLATE --count N``: N VMs named ``{name}-1`` … ``{name}-N``, made at once.

Trainers and testers ask for "ten of these, now". The N plans are made from one
``/cluster/resources`` snapshot, one after the other, each seeing the VMIDs, names (and
placement) of those before it; the quota counts all N before anything starts (all or
nothing, held under one lock); then each VM is an ordinary create (``vm_create.create_vm``
with its plan: its own audit record, request id and cleanup), run concurrently with at most
``limits.parallel_per_node`` clones per node. One VM failing leaves the others standing; the
result says which failed and why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from solti.provisioning.collaborators import Collaborators
from solti.provisioning.errors import InvalidRequest, PolicyDenied, SoltiError
from solti.provisioning.fleet import asked_of, current_usage, quota_problem, usage_with_holds
from solti.provisioning.inventory import Snapshot, choose_template
from solti.provisioning.models import Progress, VmCreateRequest, VmCreateResult, VmPlan
from solti.provisioning.rules import default_vm_name
from solti.provisioning.vm_create import create_vm
from solti.provisioning.vm_plan import decide, distribution_of, place

__all__ = ["BulkItem", "BulkResult", "bulk_names", "create_bulk", "plan_bulk"]

RowProgress = Callable[[int, Progress], None]


@dataclass
class BulkItem:
    """One of the N: its plan, then what its create made or why it failed."""

    index: int
    plan: VmPlan
    result: VmCreateResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class BulkResult:
    items: list[BulkItem] = field(default_factory=list)

    @property
    def made(self) -> list[BulkItem]:
        return [i for i in self.items if i.ok]

    @property
    def failed(self) -> list[BulkItem]:
        return [i for i in self.items if i.error is not None]

    def summary(self) -> str:
        """One line: "10 of 10 VMs made" or "8 of 10 VMs made; web-3, web-7 failed"."""
        line = f"{len(self.made)} of {len(self.items)} VMs made"
        if self.failed:
            line += "; " + ", ".join(i.plan.name for i in self.failed) + " failed"
        return line


def bulk_names(base: str, count: int, taken: set[str]) -> list[str]:
    """``base-1`` … ``base-N``; every one must be free, or the whole request is refused
    (a VM named like one of a set but not of it would confuse everyone)."""
    names = [f"{base}-{i}" for i in range(1, count + 1)]
    clash = [n for n in names if n in taken]
    if clash:
        raise InvalidRequest(
            f"{', '.join(clash)} {'is' if len(clash) == 1 else 'are'} taken; "
            "choose another --name for the set",
            field="name",
        )
    for name in names:  # a long base plus "-10" may pass the DNS label limit
        VmCreateRequest(name=name)
    return names


def _check_count(ops: Collaborators, request: VmCreateRequest, count: int) -> None:
    most = ops.fleet.limits.max_count
    if not 1 <= count <= most:
        raise InvalidRequest(
            f"must be from 1 to {most} (policy limits.max_count), got {count}", field="count"
        )
    if request.vmid is not None and count > 1:
        raise InvalidRequest(
            "a VMID cannot be given with --count; each VM gets the next free id", field="vmid"
        )
    if request.ip is not None and count > 1:
        raise InvalidRequest(
            "a static address cannot be given with --count; the VMs would share it", field="ip"
        )


def plan_bulk(
    ops: Collaborators, request: VmCreateRequest, count: int, *, actor: str | None = None
) -> list[VmPlan]:
    """The N plans, from one snapshot, each placed knowing the ones before it; with
    ``actor``, refused (``PolicyDenied``) when the N together would pass a quota."""
    _check_count(ops, request, count)
    taken_at = ops.reservations.now()
    snapshot = Snapshot.take(ops.client)
    template = choose_template(ops.client, snapshot, request.template, set(ops.catalog.names))
    place(ops, request, snapshot, template)  # a --node mistake refused before any name work
    snapshot.complete_vm_names(ops.client)
    taken = snapshot.names() | ops.reservations.names()
    base = request.name or default_vm_name(distribution_of(template), ops.today())
    ids = ops.reservations.vmids()
    plans: list[VmPlan] = []
    for name in bulk_names(base, count, taken):
        one = request.model_copy(update={"name": name})
        source, choice = place(ops, one, snapshot, template)  # sees the ones planned before
        plan = decide(ops, one, snapshot, source, ids, taken, choice=choice)
        ids = ids | {plan.vmid}
        taken = taken | {plan.name}
        snapshot.add_planned(plan)
        plan._quota_basis = (snapshot, taken_at)
        plans.append(plan)
    if actor is not None:
        _check_quota_of_all(ops, actor, plans, snapshot, taken_at)
    return plans


def _check_quota_of_all(
    ops: Collaborators, actor: str, plans: list[VmPlan], snapshot: Snapshot, taken_at: float
) -> None:
    used = current_usage(ops, actor, snapshot, taken_at)
    for plan in plans:
        problem = quota_problem(ops.fleet.quotas, used, asked_of(plan))
        if problem:
            raise PolicyDenied(f"{len(plans)} VMs would pass your quota ({problem}); none made")
        used = used.plus([asked_of(plan)])


def _hold_all(ops: Collaborators, actor: str, plans: list[VmPlan]) -> None:
    """Hold the quota of all N at once (one lock), so two sets never pass it together."""
    if not plans:
        return
    snapshot, taken_at = plans[0].quota_basis
    asks = [asked_of(p) for p in plans]

    def check(holds: list[Any], asked: Any) -> None:
        used = usage_with_holds(ops, actor, snapshot, holds, taken_at)
        problem = quota_problem(ops.fleet.quotas, used, asked)
        if problem:
            raise PolicyDenied(f"{len(plans)} VMs would pass your quota ({problem}); none made")

    for plan, held in zip(plans, ops.reservations.hold_all(actor, asks, check), strict=True):
        plan._quota_hold = held


def create_bulk(
    ops: Collaborators,
    request: VmCreateRequest,
    plans: list[VmPlan],
    *,
    actor: str,
    via: str,
    request_id: str | None = None,
    progress: RowProgress | None = None,
    finished: Callable[[BulkItem], None] | None = None,
) -> BulkResult:
    """Build ``plans`` (from ``plan_bulk``) concurrently, at most ``parallel_per_node`` per
    node; each VM is one ordinary create with request id ``{request_id}-{i}``.

    The set's VMIDs and names are claimed together first, under the audit file's lock
    (``Reservations.claim_set``): two `solti vm create --count` in two processes, planned from
    snapshots taken at the same moment, would otherwise build two sets of the same names.
    """
    clash, rows = ops.reservations.claim_set([(p.vmid, p.name) for p in plans])
    if clash:
        raise InvalidRequest(
            f"{', '.join(clash)} {'is' if len(clash) == 1 else 'are'} being created by another "
            "solti process right now; choose another --name for the set, or try again",
            field="name",
        )
    try:
        _hold_all(ops, actor, plans)
        return _build_all(ops, request, plans, actor=actor, via=via, request_id=request_id,
                          progress=progress, finished=finished)  # fmt: skip
    finally:
        ops.reservations.release_set(rows)


def _build_all(
    ops: Collaborators,
    request: VmCreateRequest,
    plans: list[VmPlan],
    *,
    actor: str,
    via: str,
    request_id: str | None,
    progress: RowProgress | None,
    finished: Callable[[BulkItem], None] | None,
) -> BulkResult:
    """The N creates of ``create_bulk``, in a thread pool."""
    items = [BulkItem(index=i, plan=plan) for i, plan in enumerate(plans, start=1)]
    per_node = ops.fleet.limits.parallel_per_node
    gates: dict[str, threading.Semaphore] = {
        node: threading.Semaphore(per_node) for node in {p.node for p in plans}
    }

    def build(item: BulkItem) -> BulkItem:
        one = request.model_copy(
            update={
                "name": item.plan.name,
                "request_id": f"{request_id}-{item.index}" if request_id else None,
            }
        )
        row = None if progress is None else (lambda p, i=item.index: progress(i, p))
        with gates[item.plan.node]:
            try:
                item.result = create_vm(ops, one, plan=item.plan, progress=row, actor=actor,
                                        via=via)  # fmt: skip
            except SoltiError as exc:
                item.error = str(exc)
            except Exception as exc:  # one VM's surprise must not sink the other N-1
                item.error = f"unexpected error: {type(exc).__name__}"
        if finished is not None:
            finished(item)
        return item

    workers = min(len(items), per_node * len(gates))
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="bulk") as pool:
        list(pool.map(build, items))
    return BulkResult(items=items)
