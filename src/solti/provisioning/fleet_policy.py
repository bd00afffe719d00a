"""The policy sections that govern the fleet: per-VM limits, flavors, quotas, placement.

Kept apart from ``config`` (the connection and the other sections) so the rules about how big
VMs may be and how many a person may hold are read in one place. ``Fleet`` is what the
provisioning verbs receive (``Collaborators.fleet``); the policy file's keys are ``limits``,
``flavors``, ``quotas`` and ``placement``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from solti.provisioning.approval_rules import VmCreateApprovalRules
from solti.provisioning.bounds import MAX_CORES, MAX_MEMORY
from solti.provisioning.sizes import Size

__all__ = [
    "MAX_CORES",
    "MAX_MEMORY",
    "Flavor",
    "Fleet",
    "Limits",
    "PerVmLimits",
    "PlacementPolicy",
    "Quotas",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _strict_int(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"must be an integer >= 0, got {value!r}")
    return value


class PerVmLimits(_Section):
    cores: int = Field(16, ge=1, le=MAX_CORES, description="Most vCPU cores one VM may have.")
    memory: int = Field(
        65536, ge=16, le=MAX_MEMORY, description="Most memory one VM may have, in MiB."
    )
    disk: Size = Field(Size("500G"), description="Largest boot disk one VM may have.")


class Limits(_Section):
    per_vm: PerVmLimits = Field(default_factory=PerVmLimits)
    max_count: int = Field(
        10, ge=1, le=100, description="Most VMs one `vm create --count N` may make."
    )
    parallel_per_node: int = Field(
        4, ge=1, le=32, description="Clones a `--count` create runs at once on one node."
    )


class Flavor(_Section):
    """A named size (``--size small``); a key left out uses the policy default."""

    cores: int | None = Field(None, ge=1, le=MAX_CORES, description="vCPU cores.")
    memory: int | None = Field(None, ge=16, le=MAX_MEMORY, description="Memory in MiB.")
    disk: Size | None = Field(None, description="Minimum boot disk.")


class Quotas(_Section):
    max_vms_per_user: int | None = Field(
        None, ge=0, description="VMs one user may own at once; unset means no limit."
    )
    cores: int | None = Field(
        None, ge=0, description="Total cores of a user's VMs (running and stopped); null: no limit."
    )
    memory: int | None = Field(None, ge=0, description="Total memory of a user's VMs, in MiB.")
    disk: Size | None = Field(None, description="Total boot disk size of a user's VMs.")

    _integers = field_validator("max_vms_per_user", "cores", "memory", mode="before")(
        classmethod(lambda _, v: _strict_int(v))
    )


class PlacementPolicy(_Section):
    """Which node a create without ``--node`` goes to (docs/proxmox.md, "Placement").

    Only online nodes that can take a clone of the template are considered.
    """

    strategy: Literal["most-free-memory", "spread", "fixed"] = Field(
        "most-free-memory",
        description="most-free-memory: the online node with the most free memory after the "
        "VM; spread: the one with the fewest solti VMs; fixed: the template's node.",
    )
    nodes: list[str] = Field(
        default_factory=list, description="Only these nodes take new VMs; empty: any node."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Nodes never chosen; --node of one is refused."
    )

    @field_validator("nodes", "exclude")
    @classmethod
    def _node_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not isinstance(name, str) or not _NODE_NAME.match(name):
                raise ValueError(f"{name!r} is not a node name (letters, digits, '-', '.')")
        return value


_NODE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$")


@dataclass(frozen=True)
class Fleet:
    """What the verbs need of the fleet rules, bundled (``Collaborators.fleet``)."""

    limits: Limits = field(default_factory=Limits)
    flavors: dict[str, Flavor] = field(default_factory=dict)
    quotas: Quotas = field(default_factory=Quotas)
    placement: PlacementPolicy = field(default_factory=PlacementPolicy)
    # ``approvals.vm_create``: which creates wait for an approver (None: none do).
    create_approvals: VmCreateApprovalRules | None = None
