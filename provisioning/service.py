"""``Provisioner``: the one façade the Slack bot and the CLI call.

It owns one ``Ops`` bundle (PVE client, task waiter, audit log, catalog, policy defaults, the
in-process VMID reservations) and exposes the verbs. It is safe to share between threads: the
PVE client keeps one HTTP session per thread, the audit log serialises its writes, and VMID and
name choices of concurrent creates go through one lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from provisioning import template_build, templates, vm_lifecycle, vms
from provisioning.audit import AuditLog
from provisioning.catalog import Catalog
from provisioning.config import Defaults, Policy, ProxmoxSettings
from provisioning.models import (
    Progress,
    TemplateBuildRequest,
    TemplateBuildResult,
    TemplateInfo,
    UpdateStatus,
    VmCreateRequest,
    VmCreateResult,
    VmInfo,
    VmPlan,
    parse_request,
)
from provisioning.ops import Ops
from provisioning.pve import PveClient
from provisioning.tasks import TaskWaiter

__all__ = ["Provisioner"]

ProgressFn = Callable[[Progress], None] | None


def _request(model: type[Any], value: Any, **overrides: Any) -> Any:
    """Accept a model, or a mapping (forms, JSON) validated into one."""
    if isinstance(value, model):
        return value.model_copy(update=overrides) if overrides else value
    data = dict(value or {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    return parse_request(model, data)


class Provisioner:
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
    ) -> None:
        self.ops = Ops(
            client=client,
            waiter=waiter or TaskWaiter(client),
            audit=audit,
            catalog=catalog,
            defaults=defaults or Defaults(),
            http_get=http_get,
            http_head=http_head,
        )

    @classmethod
    def from_settings(
        cls,
        settings: ProxmoxSettings,
        policy: Policy | None = None,
        db_path: str | Path = "solti.db",
    ) -> Provisioner:
        """Wire the real parts from configuration (nothing is contacted yet)."""
        policy = policy or Policy()
        return cls(
            PveClient.from_settings(settings),
            AuditLog(db_path),
            policy.catalog(),
            policy.defaults,
        )

    @property
    def audit(self) -> AuditLog:
        return self.ops.audit

    @property
    def catalog(self) -> Catalog:
        return self.ops.catalog

    @property
    def client(self) -> PveClient:
        return self.ops.client

    # --- VMs --------------------------------------------------------------------------------

    def plan_vm(self, request: VmCreateRequest | dict[str, Any]) -> VmPlan:
        """Every decision of a create, with reads only."""
        return vms.plan_vm(self.ops, _request(VmCreateRequest, request))

    def create_vm(
        self,
        request: VmCreateRequest | dict[str, Any],
        *,
        progress: ProgressFn = None,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
    ) -> VmCreateResult:
        req = _request(VmCreateRequest, request, request_id=request_id)
        return vms.create_vm(self.ops, req, progress=progress, actor=actor, via=via)

    def list_vms(self, owner: str | None = None) -> list[VmInfo]:
        return vm_lifecycle.list_vms(self.ops, owner=owner)

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
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
    ) -> VmInfo:
        return vm_lifecycle.shutdown_vm(
            self.ops, vmid, timeout=timeout, actor=actor, via=via, request_id=request_id
        )

    def remove_vm(self, vmid: int, *, actor: str = "unknown", via: str = "cli",
                  request_id: str | None = None) -> VmInfo:  # fmt: skip
        return vm_lifecycle.remove_vm(self.ops, vmid, actor=actor, via=via, request_id=request_id)

    # --- templates --------------------------------------------------------------------------

    def build_template(
        self,
        request: TemplateBuildRequest | dict[str, Any] | str,
        *,
        progress: ProgressFn = None,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        approver: str | None = None,
    ) -> TemplateBuildResult:
        """Build a template; ``approver`` (who allowed it) is recorded in the audit log."""
        if isinstance(request, str):
            request = {"distribution": request}
        req = _request(TemplateBuildRequest, request, request_id=request_id)
        return template_build.build_template(
            self.ops, req, progress=progress, actor=actor, via=via, approver=approver
        )

    def list_templates(self, distribution: str | None = None) -> list[TemplateInfo]:
        return templates.list_templates(self.ops, distribution)

    def verify_template(self, vmid: int) -> TemplateInfo:
        return templates.verify_template(self.ops, vmid)

    def destroy_template(
        self,
        vmid: int,
        *,
        actor: str = "unknown",
        via: str = "cli",
        request_id: str | None = None,
        approver: str | None = None,
    ) -> None:
        """Destroy a template; ``approver`` (who allowed it) is recorded in the audit log."""
        templates.destroy_template(
            self.ops, vmid, actor=actor, via=via, approver=approver, request_id=request_id
        )

    def check_updates(self, distribution: str | None = None) -> list[UpdateStatus]:
        return templates.check_updates(self.ops, distribution)
