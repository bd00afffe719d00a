"""Leases: how long a VM may live, extending it, and the sweep that acts when it ends.

The sweep reads the fleet once (one ``/cluster/resources``) and the lease table once, then
``decide`` (pure: no I/O, no clock) says what is due: a reminder at each
``leases.warn_before``, ``leases.on_expiry`` at the end, a removal of a stopped, expired VM
after ``leases.grace``. Each piece of work is claimed in SQLite before it is done
(``LeaseStore.claim``), so two sweeps at once act once and a restart neither loses nor repeats a
reminder or an expiry. The bot runs ``sweep`` every five minutes and sends the reminders it
returns as DMs; operators run ``solti lease sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from solti.provisioning import vm_lifecycle
from solti.provisioning.audit_log import AuditLog
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.durations import format_duration, parse_duration
from solti.provisioning.errors import InvalidRequest, NotFound, PolicyDenied, SoltiError
from solti.provisioning.inventory import Snapshot
from solti.provisioning.lease_policy import LeasePolicy
from solti.provisioning.lease_store import Lease, LeaseStore, stamp

__all__ = [
    "LEASE_EXTEND",
    "LEASE_WARN",
    "VM_EXPIRE",
    "LeaseBook",
    "SweepAction",
    "SweepReport",
    "decide",
    "lease_duration",
    "sweep",
]

log = logging.getLogger("solti.provisioning.lease_book")
LEASE_EXTEND = "vm lease extend"
LEASE_WARN = "vm lease warn"
VM_EXPIRE = "vm expire"
SWEEP_ACTOR = "solti"
NONE = "none"


def _now() -> datetime:
    """Now, to the second: lease ends are shown and stored without microseconds."""
    return datetime.now(UTC).replace(microsecond=0)


def when(moment: datetime) -> str:
    """A lease end as people read it: ``2026-12-17 07:00 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def lease_duration(
    policy: LeasePolicy, text: str | None, actor: str, *, exempt: bool | None = None
) -> timedelta | None:
    """What ``--lease TEXT`` means for ``actor``: a duration, or None for no lease.

    Unset: ``leases.default``. ``none`` only for those in ``leases.exempt`` (``exempt`` lets
    the bot say so for usergroup members). Never longer than ``leases.max``.
    """
    if text is None or not str(text).strip():
        return policy.default
    if str(text).strip().lower() == NONE:
        allowed = exempt if exempt is not None else actor in policy.exempt
        if not allowed:
            raise PolicyDenied(
                "--lease none is only for the users in leases.exempt; "
                f"give a duration up to {format_duration(policy.max)} (leases.max)"
            )
        return None
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise InvalidRequest(str(exc), field="lease") from None
    if duration > policy.max:
        raise PolicyDenied(
            f"--lease {text} is longer than leases.max ({format_duration(policy.max)})"
        )
    return duration


@dataclass(frozen=True)
class SweepAction:
    """One thing the sweep does (or, in a dry run, would do) to one VM."""

    vmid: int
    action: str  # warn | stop | remove
    owner: str
    lease_expires_at: datetime
    kinds: tuple[str, ...] = field(default=(), compare=False)
    error: str | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "vmid": self.vmid,
            "action": self.action,
            "owner": self.owner,
            "lease_expires_at": stamp_z(self.lease_expires_at),
        }


@dataclass
class SweepReport:
    as_of: datetime
    dry_run: bool
    actions: list[SweepAction]
    fleet: int = 0
    names: dict[int, str] = field(default_factory=dict)  # of the VMs acted on

    def as_json(self) -> dict[str, Any]:
        return {"as_of": stamp_z(self.as_of), "actions": [a.as_json() for a in self.actions]}


def stamp_z(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a ``Z``, to the second (what JSON output carries)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def decide(
    leases: list[Lease],
    statuses: dict[int, str],
    done: set[tuple[int, str, str]],
    policy: LeasePolicy,
    as_of: datetime,
    names: dict[int, str] | None = None,
) -> list[SweepAction]:
    """What is due at ``as_of`` for the VMs in ``statuses`` (VMID -> status); pure.

    ``names`` (VMID -> name on the cluster): a VM whose name is not the one its lease was
    made for is left alone: its VMID was reused by a VM made outside Solti after the leased
    one was destroyed behind Solti's back (a VM too new to have a name in the snapshot is
    not judged by it).
    """
    names = names or {}
    actions = []
    for lease in leases:
        end = lease.expires_at
        if end is None or lease.vmid not in statuses:
            continue
        seen = names.get(lease.vmid)
        if lease.name and seen and seen != lease.name:
            continue
        key = stamp(end)

        def undone(kind: str, vmid: int = lease.vmid, key: str = key) -> bool:
            return (vmid, key, kind) not in done

        if as_of < end:
            kinds = tuple(
                f"warn:{int(w.total_seconds())}" for w in policy.warn_before if end - w <= as_of
            )
            if any(undone(k) for k in kinds):
                kinds = tuple(k for k in kinds if undone(k))
                actions.append(SweepAction(lease.vmid, "warn", lease.owner, end, kinds))
        elif policy.on_expiry == "remove":
            if undone("remove"):
                actions.append(
                    SweepAction(lease.vmid, "remove", lease.owner, end, ("expire", "remove"))
                )
        elif undone("expire"):
            actions.append(SweepAction(lease.vmid, "stop", lease.owner, end, ("expire",)))
        elif (
            policy.grace > timedelta(0)
            and as_of >= end + policy.grace
            and statuses[lease.vmid] == "stopped"
            and undone("remove")
        ):
            actions.append(SweepAction(lease.vmid, "remove", lease.owner, end, ("remove",)))
    return sorted(actions, key=lambda a: (a.lease_expires_at, a.vmid))


def _fleet(ops: Collaborators) -> list[dict[str, Any]]:
    """Every VM (templates left out), from one ``/cluster/resources``."""
    return [
        e
        for e in Snapshot.take(ops.client).entries
        if e.get("type", "qemu") == "qemu" and not Snapshot.is_template(e)
    ]


def sweep(
    ops: Collaborators,
    policy: LeasePolicy,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    actor: str = SWEEP_ACTOR,
    via: str = "lease",
) -> SweepReport:
    """Decide and (unless ``dry_run``) act; the report lists what this sweep did."""
    as_of = as_of or _now()
    store = LeaseStore(ops.audit)
    fleet = _fleet(ops)
    statuses = {int(e["vmid"]): str(e.get("status", "unknown")) for e in fleet}
    on_cluster = {int(e["vmid"]): str(e["name"]) for e in fleet if e.get("name")}
    due = decide(store.all(), statuses, store.done(), policy, as_of, on_cluster)
    names = {a.vmid: on_cluster.get(a.vmid, f"VM {a.vmid}") for a in due}
    if dry_run:
        return SweepReport(as_of, True, due, len(statuses), names)
    acted = []
    for action in due:
        claimed = [k for k in action.kinds if store.claim(action.vmid, action.lease_expires_at,
                                                         k, as_of)]  # fmt: skip
        if not claimed:
            continue  # another sweep has it
        try:
            _act(ops, store, policy, action, actor=actor, via=via)
        except SoltiError as exc:
            store.release(action.vmid, action.lease_expires_at, claimed)
            log.warning("lease %s of VM %s failed: %s", action.action, action.vmid, exc)
            action = SweepAction(action.vmid, action.action, action.owner,
                                 action.lease_expires_at, action.kinds, str(exc))  # fmt: skip
        acted.append(action)
    return SweepReport(as_of, False, acted, len(statuses), names)


def _act(
    ops: Collaborators,
    store: LeaseStore,
    policy: LeasePolicy,
    action: SweepAction,
    *,
    actor: str,
    via: str,
) -> None:
    vmid, end = action.vmid, action.lease_expires_at
    params = {"owner": action.owner, "lease_expires_at": stamp_z(end)}
    if action.action == "warn":
        ops.audit.record(LEASE_WARN, actor, via, "ok", vmid=vmid, params=params)
        return
    if "expire" in action.kinds:
        ops.audit.record(
            VM_EXPIRE, actor, via, "ok", vmid=vmid, params={**params, "on_expiry": action.action}
        )
    request_id = f"lease-{vmid}-{action.action}-{stamp_z(end)}"
    if action.action == "stop":
        vm_lifecycle.stop_vm(ops, vmid, actor=actor, via="lease", request_id=request_id)
    else:
        vm_lifecycle.remove_vm(ops, vmid, actor=actor, via="lease", request_id=request_id)
        store.forget(vmid)


class LeaseBook:
    """Setting, reading and extending leases for one ``LeasePolicy`` (the ``Provisioner``'s)."""

    def __init__(
        self, audit: AuditLog, policy: LeasePolicy, clock: Callable[[], datetime] = _now
    ) -> None:
        self.audit = audit
        self.policy = policy
        self.store = LeaseStore(audit)
        self.clock = clock

    def begin(
        self, vmid: int, owner: str, duration: timedelta | None, name: str | None = None
    ) -> Lease:
        """The lease of a VM just made (None: it never ends); ``name`` guards a reused VMID."""
        now = self.clock()
        end = None if duration is None else now + duration
        lease = Lease(vmid, owner, end, now, owner, name)
        self.store.put(lease)
        return lease

    def get(self, vmid: int) -> Lease | None:
        return self.store.get(vmid)

    def ends(self) -> dict[int, datetime | None]:
        """VMID -> lease end (None: no end) of every VM with a lease row."""
        return {lease.vmid: lease.expires_at for lease in self.store.all()}

    def forget(self, vmid: int) -> None:
        self.store.forget(vmid)

    def extend(
        self,
        vmid: int,
        duration: str | None = None,
        *,
        actor: str,
        admin: bool = False,
        via: str = "cli",
    ) -> Lease:
        """New end = later of now and the current end, plus ``duration`` (default
        ``leases.default``); refused past ``leases.max`` from now, naming the latest end."""
        now = self.clock()
        lease = self.store.get(vmid)
        owner = lease.owner if lease else self.audit.owners().get(vmid)
        if owner is None:
            raise NotFound(f"VM {vmid} has no lease and no owner in the audit log")
        if not admin and actor != owner:
            raise PolicyDenied(f"VM {vmid} is {owner}'s: only its owner or an admin may extend it")
        step = self._step(duration)
        current = lease.expires_at if lease else None
        new_end = max(now, current or now) + step
        latest = now + self.policy.max
        if new_end > latest:
            ends = f"it ends {when(current)}" if current else "it has no end"
            self.audit.record(
                LEASE_EXTEND, actor, via, "denied", vmid=vmid,
                error=f"past leases.max; latest allowed end {when(latest)}",
                params={"owner": owner, "by": format_duration(step)},
            )  # fmt: skip
            raise PolicyDenied(
                f"VM {vmid}: extending by {format_duration(step)} would end the lease "
                f"{when(new_end)}, past leases.max ({format_duration(self.policy.max)} from now; "
                f"{ends}); the latest allowed end is {when(latest)}"
            )
        extended = Lease(vmid, owner, new_end, now, actor, lease.name if lease else None)
        self.store.put(extended)
        self.audit.record(
            LEASE_EXTEND, actor, via, "ok", vmid=vmid,
            params={"owner": owner, "by": format_duration(step), "from": stamp_z(current),
                    "lease_expires_at": stamp_z(new_end)},
        )  # fmt: skip
        return extended

    def _step(self, duration: str | None) -> timedelta:
        if duration is None or not str(duration).strip():
            if self.policy.default is None:
                raise InvalidRequest(
                    "leases.default is none: say how long, e.g. `vm extend 123 7d`",
                    field="duration",
                )
            return self.policy.default
        try:
            return parse_duration(duration)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="duration") from None
