"""Sizes, limits and quotas of a create, decided from the plan's one snapshot.

``sized`` turns a request (flags, ``--size NAME``, policy defaults) into cores, memory and a
minimum disk and refuses what is over ``limits.per_vm``. ``usage_of`` counts what a person's
VMs hold from the ``/cluster/resources`` snapshot the plan already took (the owner of each VM
is read from the audit log). ``quota_problem`` words a refusal: the key, used/limit and the
VMs that hold it. Creates still in flight are counted through ``Reservations`` holds, so
parallel creates by one person can never together pass a quota.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from solti.provisioning.errors import InvalidRequest, PolicyDenied
from solti.provisioning.fleet_policy import Flavor, Fleet, Quotas
from solti.provisioning.inventory import Snapshot
from solti.provisioning.sizes import Size

__all__ = [
    "HeldVm",
    "Usage",
    "asked_of",
    "check_quota",
    "current_usage",
    "flavor_list",
    "hold_quota",
    "quota_problem",
    "quota_report",
    "quotas_set",
    "sized",
    "usage_of",
]

_MIB = 1024**2


@dataclass(frozen=True)
class HeldVm:
    """One VM counted against a person's quota: its size as the snapshot (or its create) says."""

    vmid: int
    name: str
    cores: int = 0
    memory: int = 0  # MiB
    disk: int = 0  # bytes

    def label(self) -> str:
        return f"{self.vmid} {self.name}"


@dataclass(frozen=True)
class Usage:
    """What a person holds: VM count, cores, memory (MiB), disk (bytes), and which VMs."""

    vms: list[HeldVm] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.vms)

    @property
    def cores(self) -> int:
        return sum(v.cores for v in self.vms)

    @property
    def memory(self) -> int:
        return sum(v.memory for v in self.vms)

    @property
    def disk(self) -> int:
        return sum(v.disk for v in self.vms)

    def plus(self, more: Iterable[HeldVm]) -> Usage:
        return Usage([*self.vms, *more])

    def as_json(self) -> dict[str, Any]:
        return {
            "vms": self.count,
            "cores": self.cores,
            "memory": self.memory,
            "disk": Size(self.disk).pve(),
        }


def flavor_list(flavors: dict[str, Flavor]) -> str:
    if not flavors:
        return "no flavors are defined (policy `flavors`)"
    parts = []
    for name, flavor in sorted(flavors.items()):
        bits = [
            f"{flavor.cores} core{'s' if flavor.cores != 1 else ''}" if flavor.cores else None,
            f"{flavor.memory} MiB" if flavor.memory else None,
            f"{flavor.disk}" if flavor.disk else None,
        ]
        parts.append(f"{name} ({', '.join(b for b in bits if b)})")
    return "the flavors are: " + ", ".join(parts)


def sized(fleet: Fleet, defaults: Any, request: Any) -> tuple[int, int, Size]:
    """Cores, memory and minimum disk of a create: flags, else the flavor, else the defaults.

    Explicit flags win over the flavor; whatever the source, each is held to
    ``limits.per_vm`` (the refusal names the key and what was asked).
    """
    flavor = Flavor()
    if request.size:
        found = fleet.flavors.get(request.size)
        if found is None:
            raise InvalidRequest(
                f"no flavor named {request.size!r}; {flavor_list(fleet.flavors)}", field="size"
            )
        flavor = found
    cores = request.cores or flavor.cores or defaults.cores
    memory = request.memory or flavor.memory or defaults.memory
    disk = request.disk or flavor.disk or defaults.disk
    limit = fleet.limits.per_vm
    over = [
        ("cores", cores > limit.cores, f"{limit.cores}", f"{cores}"),
        ("memory", memory > limit.memory, f"{limit.memory} MiB", f"{memory}"),
        ("disk", disk > limit.disk, f"{limit.disk}", f"{disk}"),
    ]
    for key, exceeded, allowed, asked in over:
        if exceeded:
            raise InvalidRequest(
                f"over the limit: limits.per_vm.{key} is {allowed}; you asked for {asked}",
                field=key,
            )
    return cores, memory, disk


def held_vm(entry: dict[str, Any], name: str) -> HeldVm:
    """A snapshot row as a ``HeldVm`` (a row too new for the RRD cache has no sizes yet)."""
    return HeldVm(
        vmid=int(entry["vmid"]),
        name=name,
        cores=int(entry.get("maxcpu") or 0),
        memory=int(entry.get("maxmem") or 0) // _MIB,
        disk=int(entry.get("maxdisk") or 0),
    )


def usage_of(audit: Any, actor: str, snapshot: Snapshot) -> Usage:
    """The VMs ``actor`` owns (audit log) that are on the cluster (snapshot), with sizes."""
    owners = audit.owners()
    live = snapshot.non_templates()
    held = []
    for vmid, name in live.items():
        if owners.get(vmid) == actor:
            entry = snapshot.entry(vmid) or {"vmid": vmid}
            held.append(held_vm(entry, name))
    return Usage(held)


def quotas_set(quotas: Quotas) -> bool:
    return any(
        v is not None for v in (quotas.max_vms_per_user, quotas.cores, quotas.memory, quotas.disk)
    )


def quota_problem(quotas: Quotas, used: Usage, adding: HeldVm) -> str | None:
    """Why ``adding`` would pass a quota (None: it fits), with used/limit and the VMs."""
    holders = ", ".join(v.label() for v in used.vms) or "none"
    checks: list[tuple[str, int | None, int, int, str]] = [
        ("max_vms_per_user", quotas.max_vms_per_user, used.count, 1, "VMs"),
        ("cores", quotas.cores, used.cores, adding.cores, "cores"),
        ("memory", quotas.memory, used.memory, adding.memory, "MiB"),
        ("disk", quotas.disk.bytes if quotas.disk else None, used.disk, adding.disk, ""),
    ]
    for key, limit, have, more, unit in checks:
        if limit is None or have + more <= limit:
            continue
        if key == "disk":
            shown = f"{Size(have)} of {Size(limit)} used; this VM asks for {Size(more)}"
        elif key == "max_vms_per_user":
            shown = f"you have {have} of {limit} VMs"
        else:
            shown = f"{have} of {limit} {unit} used; this VM asks for {more}"
        return (
            f"over your quota: quotas.{key}: {shown} (held by your VMs: {holders}). "
            "Remove one with `vm remove VMID` first."
        )
    return None


def _with_holds(used: Usage, holds: Iterable[Any], taken_at: float) -> Usage:
    """``used`` (from a snapshot taken at ``taken_at``) plus the creates it cannot show yet.

    A create's VM is counted once: through the snapshot once its audit record is ``ok`` and
    the snapshot lists it (a row the RRD cache lists bare, without sizes yet, takes the sizes
    its create asked for), else through its hold: always while in flight, and after it
    finished when the snapshot is older than that.
    """
    by_vmid = {(h.vmid if h.vmid is not None else h.vm.vmid): h for h in holds}
    vms = [
        replace(by_vmid[v.vmid].vm, vmid=v.vmid, name=v.name)
        if v.vmid in by_vmid and not (v.cores or v.memory or v.disk)
        else v
        for v in used.vms
    ]
    seen = {v.vmid for v in vms}
    for vmid, h in by_vmid.items():
        if vmid in seen:
            continue
        if h.finished_at is None or h.finished_at > taken_at:
            vms.append(replace(h.vm, vmid=vmid))
    return Usage(vms)


def usage_with_holds(
    ops: Any, actor: str, snapshot: Snapshot, holds: Iterable[Any], taken_at: float
) -> Usage:
    """``actor``'s VMs in ``snapshot`` plus ``holds`` (creates in flight) not yet in it."""
    return _with_holds(usage_of(ops.audit, actor, snapshot), holds, taken_at)


def current_usage(ops: Any, actor: str, snapshot: Snapshot, taken_at: float) -> Usage:
    """What ``actor`` holds now: the snapshot's VMs and this process's creates in flight."""
    used = usage_of(ops.audit, actor, snapshot)
    return _with_holds(used, ops.reservations.holds_of(actor), taken_at)


def check_quota(ops: Any, actor: str, asked: HeldVm, snapshot: Snapshot, taken_at: float) -> Usage:
    """Refuse (``PolicyDenied``) when ``asked`` would pass a quota; the usage otherwise."""
    used = current_usage(ops, actor, snapshot, taken_at)
    problem = quota_problem(ops.fleet.quotas, used, asked)
    if problem:
        raise PolicyDenied(problem)
    return used


def hold_quota(ops: Any, actor: str, plan: Any) -> Any | None:
    """Count a create against ``actor``'s quotas, atomically with every other create.

    The plan's own snapshot is the basis when it was made for ``actor``; otherwise one
    snapshot is taken now (only when some quota is set).
    """
    held = getattr(plan, "quota_hold", None)
    if held is not None:  # held already, with its siblings (``vm_bulk``)
        return held
    if not quotas_set(ops.fleet.quotas):
        return None
    basis = getattr(plan, "quota_basis", None)
    if basis is None:
        taken_at = ops.reservations.now()
        basis = (Snapshot.take(ops.client), taken_at)
    snapshot, taken_at = basis
    asked = asked_of(plan)

    def check(holds: list[Any]) -> None:
        used = _with_holds(usage_of(ops.audit, actor, snapshot), holds, taken_at)
        problem = quota_problem(ops.fleet.quotas, used, asked)
        if problem:
            raise PolicyDenied(problem)

    return ops.reservations.hold(actor, asked, check)


def asked_of(plan: Any) -> HeldVm:
    """The sizes a plan would add to its owner's usage."""
    disk = plan.disk_after.bytes if plan.disk_after is not None else 0
    return HeldVm(vmid=plan.vmid, name=plan.name, cores=plan.cores or 0,
                  memory=plan.memory or 0, disk=disk)  # fmt: skip


def quota_report(ops: Any, user: str) -> dict[str, Any]:
    """``user``'s usage and quota limits from one snapshot (``solti quota --json``)."""
    taken_at = ops.reservations.now()
    used = current_usage(ops, user, Snapshot.take(ops.client), taken_at)
    quotas = ops.fleet.quotas
    return {
        "user": user,
        "used": used.as_json(),
        "limits": {
            "vms": quotas.max_vms_per_user,
            "cores": quotas.cores,
            "memory": quotas.memory,
            "disk": quotas.disk.pve() if quotas.disk is not None else None,
        },
        "vms": [
            {
                "vmid": v.vmid,
                "name": v.name,
                "cores": v.cores,
                "memory": v.memory,
                "disk": Size(v.disk).pve(),
            }
            for v in used.vms
        ],
    }
