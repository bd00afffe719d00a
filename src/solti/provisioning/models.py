"""Requests, results and records exchanged between provisioning, the CLI and the bot.

This module holds what the verbs answer (template and VM info, plans, results, update status,
progress, audit records); the requests live in ``request_models`` and the model base and
error wording in ``modelkit``. Every name is re-exported here, the one place callers import
models from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from solti.provisioning.request_models import TemplateBuildRequest, VmCreateRequest
from solti.provisioning.sizes import Size
from solti.provisioning.strict_models import (
    StrictModel,
    config_error_from,
    invalid_request_from,
    parse_request,
)

__all__ = [
    "AuditRecord",
    "AuditResult",
    "Progress",
    "Size",
    "TemplateBuildRequest",
    "TemplateBuildResult",
    "TemplateInfo",
    "UpdateStatus",
    "VmCreateRequest",
    "VmCreateResult",
    "VmInfo",
    "VmPlan",
    "config_error_from",
    "invalid_request_from",
    "parse_request",
]

AuditResult = Literal["ok", "failed", "denied", "expired", "running"]


class TemplateInfo(StrictModel):
    """A template as read back from PVE: config, tags and the metadata in its notes."""

    vmid: int
    name: str
    node: str
    distribution: str | None = None
    version: str | None = None
    checksum: str | None = None
    checksum_algorithm: str | None = None
    image_url: str | None = None
    image_file: str | None = None
    virtual_size: Size | None = None
    build_date: datetime | None = None
    builder: str | None = None
    tags: list[str] = Field(default_factory=list)
    disk_size: Size | None = None
    status: str | None = None
    # The template's ``balloon`` (MiB); PVE refuses a clone's memory below it.
    balloon: int | None = None
    storages: list[str] = Field(
        default_factory=list,
        description="Storages the template's volumes are on (which nodes a clone can go to).",
    )


class VmInfo(StrictModel):
    """A VM with the provenance the audit log knows (owner, template it came from)."""

    vmid: int
    name: str
    node: str
    status: str
    template_vmid: int | None = None
    template_name: str | None = None
    template_version: str | None = None
    owner: str | None = None
    created_at: datetime | None = None
    cores: int | None = None
    memory: int | None = None
    disk_size: Size | None = None
    tags: list[str] = Field(default_factory=list)
    address: str | None = Field(
        None, description="IP address to log in at (static, or reported by the guest agent)."
    )
    lease_expires_at: datetime | None = Field(
        None, description="When the VM's lease ends (UTC); None: no lease."
    )
    note: str | None = Field(
        None, description="What happened beyond the status, for people (e.g. a forced stop)."
    )


class VmPlan(StrictModel):
    """Everything a create would do, decided before anything is changed (a dry run shows it)."""

    template: TemplateInfo
    node: str
    vmid: int
    name: str
    full: bool
    target_storage: str | None = None
    cores: int | None = None
    memory: int | None = None
    disk_before: Size | None = Field(None, description="The template's boot disk size.")
    disk_after: Size | None = Field(None, description="Size after the create.")
    resize: bool = False
    user: str
    ssh_key_fingerprints: list[str] = Field(default_factory=list)
    ipconfig: str = "ip=dhcp"
    nameserver: str | None = None
    searchdomain: str | None = None
    placement: str | None = Field(
        None,
        description='Why the VM goes to its node, for people ("pve2: 41 GiB free of 64 after '
        'this VM ...", "pve2: asked for with --node").',
    )
    owned_by_actor: int | None = Field(
        None,
        description="VMs the requester owned in the snapshot this plan was made from (the "
        "bot's quota count); None when the plan was made for nobody in particular.",
    )
    # (snapshot, monotonic time it was taken): what the quota check at build time counts from,
    # so a plan carried from a dry run or a form costs no second /cluster/resources.
    _quota_basis: Any = PrivateAttr(None)
    # The quota hold made for this plan before it is built (``vm_bulk`` holds all N at once).
    _quota_hold: Any = PrivateAttr(None)

    @property
    def quota_basis(self) -> Any:
        return self._quota_basis

    @property
    def quota_hold(self) -> Any:
        return self._quota_hold

    @property
    def template_version(self) -> str | None:
        return self.template.version


class VmCreateResult(StrictModel):
    """What a create made; ``reused`` is true when a request id matched an earlier create."""

    vm: VmInfo
    plan: VmPlan | None = None
    audit_id: int | None = None
    reused: bool = False
    duration_ms: int | None = None


class TemplateBuildResult(StrictModel):
    """What a build made; ``downloaded`` is false when the image was already in storage."""

    model_config = ConfigDict(defer_build=True)  # built on first use: not on the create path

    template: TemplateInfo
    downloaded: bool = True
    audit_id: int | None = None
    reused: bool = False
    duration_ms: int | None = None


class UpdateStatus(StrictModel):
    """Upstream image versus the latest template of one distribution."""

    model_config = ConfigDict(defer_build=True)  # built on first use: not on the create path

    distribution: str
    state: Literal["current", "update_available", "unknown"]
    template_vmid: int | None = None
    template_checksum: str | None = None
    upstream_checksum: str | None = None
    template_version: str | None = None
    upstream_version: str | None = None
    build_date: datetime | None = None
    reason: str | None = Field(None, description="Why the state is unknown, for people.")


class Progress(StrictModel):
    """One step of a long operation, for progress bars and Slack message updates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    index: int = Field(ge=1)
    total: int = Field(ge=1)
    detail: str | None = None


class AuditRecord(StrictModel):
    """One audit log entry; ``model_dump()`` is exactly the contract (``id`` is excluded)."""

    id: int | None = Field(None, exclude=True)
    at: datetime
    actor: str
    via: str
    action: str
    vmid: int | None = None
    name: str | None = None
    node: str | None = None
    template_vmid: int | None = None
    template_name: str | None = None
    template_version: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    result: AuditResult
    error: str | None = None
    approver: str | None = None
    request_id: str | None = None
    duration_ms: int | None = None
    cluster: str = "default"  # the Proxmox VE cluster acted on (policy `clusters:`)
