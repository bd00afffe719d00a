"""``Provisioner``: the one façade the Slack bot and the CLI call.

It owns one ``Collaborators`` bundle (PVE client, task waiter, audit log, catalog, policy
defaults, the in-process VMID reservations) and exposes the verbs. It is safe to share between
threads: the PVE client keeps one HTTP session per thread, the audit log serialises its writes,
and VMID and name choices of concurrent creates go through one lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from solti.provisioning import (
    addresses,
    lease_book,
    vm_bulk,
    vm_create,
    vm_lifecycle,
)
from solti.provisioning.addresses import AddressLookup
from solti.provisioning.audit_log import AuditLog
from solti.provisioning.catalog import Catalog
from solti.provisioning.collaborators import Collaborators
from solti.provisioning.config import Policy
from solti.provisioning.defaults_policy import Defaults
from solti.provisioning.fleet_policy import Fleet
from solti.provisioning.lease_book import LeaseBook, SweepReport
from solti.provisioning.lease_policy import LeasePolicy
from solti.provisioning.lease_store import Lease
from solti.provisioning.models import (
    Progress,
    VmCreateRequest,
    VmCreateResult,
    VmInfo,
    VmPlan,
)
from solti.provisioning.proxmox_connection import ProxmoxConnection
from solti.provisioning.pve import PveClient
from solti.provisioning.service_snapshots import SnapshotVerbs
from solti.provisioning.service_templates import TemplateVerbs
from solti.provisioning.snapshots_policy import SnapshotPolicy
from solti.provisioning.strict_models import coerce_request as _request
from solti.provisioning.task_waiter import TaskWaiter

if TYPE_CHECKING:
    from solti.provisioning.reconciliation import Report

__all__ = ["Provisioner"]

ProgressFn = Callable[[Progress], None] | None


class Provisioner(TemplateVerbs, SnapshotVerbs):
    """Template and VM verbs over Proxmox VE, with an audit record for each."""

    def __init__(
        self,
        client: PveClient,
        audit: AuditLog,
        catalog: Catalog,
        defaults: Defaults | None = None,
        *,
        waiter: TaskWaiter | None = None,
        http_get: Callable[[str], str] | None = None,
        http_head: Callable[[str], Mapping[str, str]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        fleet: Fleet | None = None,
        lease_policy: LeasePolicy | None = None,
        snapshot_policy: SnapshotPolicy | None = None,
    ) -> None:
        # The clock of waits that are not PVE tasks (the guest agent's address); with
        # ``ops.sleep`` a test can replace both and never sleep.
        self.monotonic = monotonic
        self.ops = Collaborators(
            client=client,
            waiter=waiter or TaskWaiter(client),
            audit=audit,
            catalog=catalog,
            defaults=defaults or Defaults(),
            fleet=fleet or Fleet(),
            http_get=http_get,
            http_head=http_head,
        )
        # Leases (``leases:`` of the policy): set on create, shown by list, ended by the sweep.
        self.leases = LeaseBook(audit, lease_policy or LeasePolicy())
        # ``snapshots:`` of the policy: how many per VM, how old before the report names them.
        self.snapshot_policy = snapshot_policy or SnapshotPolicy()

    @classmethod
    def from_settings(
        cls,
        settings: ProxmoxConnection,
        policy: Policy | None = None,
        db_path: str | Path = "solti.db",
        *,
        audit: AuditLog | None = None,
    ) -> Provisioner:
        """Wire the real parts from configuration (nothing is contacted yet); ``audit``: a log
        shared with other clusters' provisioners (``AuditLog.scoped``), else one at ``db_path``."""
        policy = policy or Policy()
        return cls(
            PveClient.from_settings(settings),
            audit if audit is not None else AuditLog(db_path, cluster="default"),
            policy.catalog(),
            policy.defaults,
            fleet=policy.fleet(),
            lease_policy=policy.leases,
            snapshot_policy=policy.snapshots,
        )

    @property
    def audit(self) -> AuditLog:
        return self.ops.audit

    @property
    def cluster(self) -> str:
        """The cluster this provisioner acts on (its audit log's; ``default`` alone)."""
        return self.ops.audit.writes_cluster

    @property
    def catalog(self) -> Catalog:
        return self.ops.catalog

    @property
    def client(self) -> PveClient:
        return self.ops.client

    # --- VMs --------------------------------------------------------------------------------

    def plan_vm(
        self,
        request: VmCreateRequest | dict[str, Any],
        *,
        actor: str | None = None,
        prefer_vmid: int | None = None,
        prefer_name: str | None = None,
        lease_exempt: bool | None = None,
        prefer_node: str | None = None,
    ) -> VmPlan:
        """Every decision of a create, with reads only: one ``/cluster/resources``, one
        template config. With ``actor`` the plan counts that person's VMs
        (``owned_by_actor``); ``prefer_vmid``/``prefer_name`` (shown to the person before)
        are kept when the request leaves them open and they are still free; ``prefer_node``
        when the request names no node and that node is still eligible (``vm_plan.place``)."""
        req = _request(VmCreateRequest, request)
        if actor is not None:  # a lease the actor may not have is refused by the dry run too
            lease_book.lease_duration(self.leases.policy, req.lease, actor, exempt=lease_exempt)
        return vm_create.plan_vm(
            self.ops,
            req,
            actor=actor,
            prefer_vmid=prefer_vmid,
            prefer_name=prefer_name,
            prefer_node=prefer_node,
        )

    def create_approval_reasons(
        self,
        plan: VmPlan,
        *,
        actor: str,
        lease: str | None = None,
        lease_exempt: bool | None = None,
    ) -> list[str]:
        """Why a create of ``plan`` waits for an approver (``approvals.vm_create``); empty:
        it does not. ``lease`` is the create's ``--lease`` text (unset: ``leases.default``)."""
        from solti.provisioning.approval_rules import approval_reasons

        rules = self.ops.fleet.create_approvals
        if rules is None:
            return []
        duration = lease_book.lease_duration(self.leases.policy, lease, actor, exempt=lease_exempt)
        return approval_reasons(plan, rules, duration)

    def give_vm(
        self, vmid: int, to: str, *, actor: str, via: str = "cli", request_id: str | None = None
    ) -> str | None:
        """Make ``to`` the owner of VM ``vmid`` (audited); the previous owner is returned.
        Quotas and lists follow the new owner at once. The caller checks who may give."""
        from solti.provisioning.vm_give import give_vm

        return give_vm(self.ops, vmid, to, actor=actor, via=via, request_id=request_id)

    def owner_of(self, vmid: int) -> str | None:
        from solti.provisioning.vm_give import owner_of

        return owner_of(self.ops, vmid)

    def quota(self, user: str) -> dict[str, Any]:
        """``user``'s usage (VMs, cores, memory, disk) and the quota limits (None: no limit),
        from one ``/cluster/resources`` snapshot plus this process's creates in flight."""
        from solti.provisioning.fleet import quota_report

        return quota_report(self.ops, user)

    def create_vm(
        self,
        request: VmCreateRequest | dict[str, Any],
        *,
        plan: VmPlan | None = None,
        progress: ProgressFn = None,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        lease: str | None = None,
        lease_exempt: bool | None = None,
        approver: str | None = None,
    ) -> VmCreateResult:
        """Make a VM. ``plan`` (from ``plan_vm`` of the same request, as shown to the person)
        is built as it is: the create then reads nothing before the clone.

        ``lease`` (``7d``, ``none``; unset: ``leases.default``) is checked before anything
        changes and starts when the VM exists; ``lease_exempt`` is the bot's word that the
        actor is in ``leases.exempt`` through a usergroup."""
        req = _request(VmCreateRequest, request, request_id=request_id)
        duration = lease_book.lease_duration(
            self.leases.policy, lease if lease is not None else req.lease, actor,
            exempt=lease_exempt,
        )  # fmt: skip
        result = vm_create.create_vm(
            self.ops, req, plan=plan, progress=progress, actor=actor, via=via, approver=approver
        )
        if not result.reused or self.leases.get(result.vm.vmid) is None:
            self.leases.begin(result.vm.vmid, actor, duration, result.vm.name)
        self._with_lease(result.vm)
        return result

    def plan_vms(
        self, request: VmCreateRequest | dict[str, Any], count: int, *, actor: str | None = None
    ) -> list[VmPlan]:
        """The plans of a ``--count`` create (``vm_bulk.plan_bulk``): one snapshot, N VMs
        named ``{name}-1`` … ``{name}-N``; with ``actor``, all N counted against the quota."""
        req = _request(VmCreateRequest, request)
        if actor is not None:
            lease_book.lease_duration(self.leases.policy, req.lease, actor)
        return vm_bulk.plan_bulk(self.ops, req, count, actor=actor)

    def create_vms(
        self,
        request: VmCreateRequest | dict[str, Any],
        count: int,
        *,
        plans: list[VmPlan] | None = None,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        lease: str | None = None,
        lease_exempt: bool | None = None,
        progress: Callable[[int, Progress], None] | None = None,
        finished: Callable[[vm_bulk.BulkItem], None] | None = None,
    ) -> vm_bulk.BulkResult:
        """Make ``count`` VMs at once (``vm_bulk``); each is an ordinary create with its own
        audit record and lease. ``plans`` are the ones shown (``plan_vms``); ``progress(i,
        step)`` reports the i-th VM's steps and ``finished(item)`` each VM as it ends."""
        req = _request(VmCreateRequest, request, request_id=request_id)
        duration = lease_book.lease_duration(
            self.leases.policy, lease if lease is not None else req.lease, actor,
            exempt=lease_exempt,
        )  # fmt: skip
        if plans is None:
            plans = vm_bulk.plan_bulk(self.ops, req, count, actor=actor)

        def ended(item: vm_bulk.BulkItem) -> None:
            if item.result is not None:
                vm = item.result.vm
                if not item.result.reused or self.leases.get(vm.vmid) is None:
                    self.leases.begin(vm.vmid, actor, duration, vm.name)
                self._with_lease(vm)
            if finished is not None:
                finished(item)

        return vm_bulk.create_bulk(
            self.ops, req, plans, actor=actor, via=via, request_id=req.request_id,
            progress=progress, finished=ended,
        )  # fmt: skip

    def _with_lease(self, vm: VmInfo) -> VmInfo:
        """Fill ``vm.lease_expires_at`` from the lease table (in place; returns the VM)."""
        found = self.leases.get(vm.vmid)
        vm.lease_expires_at = found.expires_at if found else None
        return vm

    def extend_lease(
        self,
        vmid: int,
        duration: str | None = None,
        *,
        actor: str = "unknown",
        admin: bool = False,
        via: str = "cli",
    ) -> Lease:
        """``vm extend``: see ``LeaseBook.extend`` (owner or admin; within ``leases.max``)."""
        return self.leases.extend(vmid, duration, actor=actor, admin=admin, via=via)

    def sweep_leases(
        self, *, as_of: Any = None, dry_run: bool = False, actor: str = lease_book.SWEEP_ACTOR,
        via: str = "lease",
    ) -> SweepReport:  # fmt: skip
        """Reminders, expiries and removals due at ``as_of`` (default now); see ``leases``."""
        return lease_book.sweep(
            self.ops, self.leases.policy, as_of=as_of, dry_run=dry_run, actor=actor, via=via
        )

    def vm_address(
        self,
        node: str,
        vmid: int,
        *,
        timeout: float | None = None,
        ipconfig: str | None = None,
        distribution: str | None = None,
    ) -> AddressLookup:
        """Where to log in to a VM: the static address of ``ipconfig`` at once, else what the
        guest agent reports within ``timeout`` seconds (default ``defaults.address_wait_seconds``).

        Separate from ``create_vm`` so a caller can show the VM as ready first and wait for
        the address afterwards; it changes nothing and writes no audit record. With the
        template's ``distribution``, an image the catalog marks ``guest_agent: false`` is not
        waited for at all.
        """
        wait = self.ops.defaults.address_wait_seconds if timeout is None else timeout
        agentless = (
            distribution
            if distribution in self.ops.catalog
            and not self.ops.catalog.get(distribution).guest_agent
            else None
        )
        return addresses.wait_for_address(
            self.ops.client,
            node,
            vmid,
            timeout=wait,
            ipconfig=ipconfig,
            agentless_image=agentless,
            sleep=self.ops.sleep,
            clock=self.monotonic,
        )

    def list_vms(self, owner: str | None = None, *, addresses: bool = False) -> list[VmInfo]:
        """Every VM; ``addresses`` asks each running VM's guest agent once (one call each)."""
        found = vm_lifecycle.list_vms(self.ops, owner=owner, addresses=addresses)
        ends = self.leases.ends()
        for vm in found:
            vm.lease_expires_at = ends.get(vm.vmid)
        return found

    def verify_vm(self, vmid: int) -> VmInfo:
        return vm_lifecycle.verify_vm(self.ops, vmid)

    def start_vm(self, vmid: int, *, actor: str = "unknown", via: str = "cli",
                 request_id: str | None = None) -> VmInfo:  # fmt: skip
        return vm_lifecycle.start_vm(self.ops, vmid, actor=actor, via=via, request_id=request_id)

    def stop_vm(self, vmid: int, *, actor: str = "unknown", via: str = "cli",
                request_id: str | None = None) -> VmInfo:  # fmt: skip
        return vm_lifecycle.stop_vm(self.ops, vmid, actor=actor, via=via, request_id=request_id)

    def shutdown_vm(
        self,
        vmid: int,
        *,
        timeout: int = vm_lifecycle.DEFAULT_SHUTDOWN_TIMEOUT,
        force: bool = False,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
    ) -> VmInfo:
        """ACPI shutdown; ``force`` stops the VM hard when it is still up after ``timeout``."""
        return vm_lifecycle.shutdown_vm(
            self.ops,
            vmid,
            timeout=timeout,
            force=force,
            actor=actor,
            via=via,
            request_id=request_id,
        )

    def remove_vm(self, vmid: int, *, actor: str = "unknown", via: str = "cli",
                  request_id: str | None = None) -> VmInfo:  # fmt: skip
        info = vm_lifecycle.remove_vm(self.ops, vmid, actor=actor, via=via, request_id=request_id)
        self.leases.forget(vmid)
        return info

    def rebuild_vm(
        self,
        vmid: int,
        *,
        template: str | int | None = None,
        dry_run: bool = False,
        progress: ProgressFn = None,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
    ) -> Any:
        """``vm rebuild``: re-create ``vmid`` from the newest build of its distribution (or
        ``template``), keeping VMID, name, node, MAC, static network, sizes, tags, user and
        keys; owner and lease stay. ``dry_run`` returns the plan (``RebuildResult.plan``)."""
        from solti.provisioning.vm_rebuild import rebuild_vm

        return rebuild_vm(self.ops, vmid, template=template, dry_run=dry_run, progress=progress,
                          actor=actor, via=via, request_id=request_id)  # fmt: skip

    # --- recovery ---------------------------------------------------------------------------

    def reconcile(self, *, stale_after: timedelta, destructive: bool = True) -> Report:
        """Survey and carry out in one go: what the bot's recovery job runs at start and every
        ``recovery.interval`` (``solti reconcile`` asks a person between the two phases).

        Records whose owner is alive and fresh (this process's own operations, another bot,
        a CLI) are never touched (``reconciliation.survey``)."""
        from solti.provisioning.reconcile_actions import carry_out
        from solti.provisioning.reconciliation import survey

        findings = survey(self.ops, stale_after=stale_after)
        return carry_out(self.ops, findings, destructive=destructive)
