"""The ``leases:`` section of the policy file: how long VMs live, reminders, what expiry does.

Kept apart from ``config`` (as ``fleet_policy`` and ``cluster_policy`` are) so the lease rules
are read in one place; ``lease_book`` and the lease sweep receive a ``LeasePolicy``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from solti.provisioning.durations import parse_duration as parse_lease_duration
from solti.provisioning.strict_models import StrictModel

__all__ = ["LeasePolicy"]


class LeasePolicy(StrictModel):
    """How long VMs live (``leases:``); durations are 30m, 12h, 7d or 2w."""

    default: timedelta | None = Field(
        timedelta(days=14),
        description='Lease of a create without --lease; "none": no lease by default.',
    )
    max: timedelta = Field(
        timedelta(days=90), description="No lease ends more than this from now (create or extend)."
    )
    warn_before: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=3), timedelta(days=1)],
        description="Reminders to the owner this long before the lease ends.",
    )
    on_expiry: Literal["stop", "remove"] = Field(
        "stop", description="What happens to a VM whose lease has ended: stop or remove."
    )
    grace: timedelta = Field(
        timedelta(days=7),
        description="A stopped, expired VM is removed this long after expiry (0: never).",
    )
    exempt: list[str] = Field(
        default_factory=list,
        description="Users/usergroups (Slack ids, or CLI user names) who may use --lease none.",
    )

    @field_validator("default", mode="before")
    @classmethod
    def _default(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
            return None
        return parse_lease_duration(value)

    @field_validator("max", mode="before")
    @classmethod
    def _max(cls, value: Any) -> Any:
        return parse_lease_duration(value)

    @field_validator("grace", mode="before")
    @classmethod
    def _grace(cls, value: Any) -> Any:
        return parse_lease_duration(value, allow_zero=True)

    @field_validator("warn_before", mode="before")
    @classmethod
    def _warnings(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError("must be a list of durations, e.g. [3d, 1d]")
        return sorted({parse_lease_duration(v) for v in value}, reverse=True)

    @model_validator(mode="after")
    def _default_within_max(self) -> LeasePolicy:
        if self.default is not None and self.default > self.max:
            raise ValueError("leases.default is longer than leases.max")
        return self
