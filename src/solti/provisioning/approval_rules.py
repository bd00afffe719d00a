"""Which creates wait for an approver: the ``approvals.vm_create`` thresholds, applied to a plan.

A self-service cluster can say yes at once to the everyday VM and still ask a second person
before someone takes 32 GiB or a full clone. The rule is read from the *plan* (the sizes the
create would really get, after flavors, defaults and the template's disk), so the dry run, the
approval card and the create that runs after the approval all name the same reasons.

Pure: no Proxmox, no Slack, no clock. ``approval_reasons`` is called by the bot's create flow
(through ``Provisioner.create_approval_reasons``) and by the CLI, which only reports them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from solti.provisioning.bounds import MAX_CORES, MAX_MEMORY
from solti.provisioning.durations import format_duration, parse_duration
from solti.provisioning.sizes import Size

__all__ = ["KEY", "VmCreateApprovalRules", "approval_reasons"]

KEY = "approvals.vm_create"


class VmCreateApprovalRules(BaseModel):
    """``approvals.vm_create``: a create over any threshold waits for an approver.

    A key left out never asks for approval; ``vm_create`` left out (the default) never does.
    """

    model_config = ConfigDict(extra="forbid")

    cores_over: int | None = Field(
        None, ge=0, le=MAX_CORES, description="A create with more cores than this waits."
    )
    memory_over: int | None = Field(
        None, ge=0, le=MAX_MEMORY, description="A create with more memory (MiB) than this waits."
    )
    disk_over: Size | None = Field(
        None, description="A create whose boot disk ends larger than this waits."
    )
    full_clone: bool = Field(False, description="true: every full clone waits.")
    lease_over: timedelta | None = Field(
        None,
        description='A lease longer than this (30m, 12h, 7d, 2w) waits; so does "--lease none".',
    )

    @field_validator("cores_over", "memory_over", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"must be a whole number >= 0, got {value!r}")
        return value

    @field_validator("lease_over", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


def approval_reasons(
    plan: Any, rules: VmCreateApprovalRules | None, lease: timedelta | None
) -> list[str]:
    """Every threshold ``plan`` is over, each as the sentence a person reads.

    ``lease`` is the lease the create would get (``None``: no lease, which is longer than any
    ``lease_over``). An empty list means the create needs nobody's approval.
    """
    if rules is None:
        return []
    reasons: list[str] = []
    if rules.cores_over is not None and (plan.cores or 0) > rules.cores_over:
        reasons.append(f"cores {plan.cores} is over {KEY}.cores_over {rules.cores_over}")
    if rules.memory_over is not None and (plan.memory or 0) > rules.memory_over:
        reasons.append(f"memory {plan.memory} MiB is over {KEY}.memory_over {rules.memory_over}")
    disk = plan.disk_after or plan.disk_before
    if rules.disk_over is not None and disk is not None and disk.bytes > rules.disk_over.bytes:
        reasons.append(f"disk {disk} is over {KEY}.disk_over {rules.disk_over}")
    if rules.full_clone and plan.full:
        reasons.append(f"a full clone needs approval ({KEY}.full_clone)")
    if rules.lease_over is not None:
        limit = format_duration(rules.lease_over)
        if lease is None:
            reasons.append(f"no lease (--lease none) is over {KEY}.lease_over {limit}")
        elif lease > rules.lease_over:
            reasons.append(f"lease {format_duration(lease)} is over {KEY}.lease_over {limit}")
    return reasons
