"""The ``snapshots:`` section of the policy file: how many, how old, and whether RAM too.

Its own module so ``config.Policy`` only names it; durations are ``provisioning.durations``
(30m, 12h, 7d, 2w), the same words as leases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from solti.provisioning.durations import parse_duration

__all__ = ["SnapshotPolicy"]


class SnapshotPolicy(BaseModel):
    """Limits on VM snapshots taken through Solti (``snapshots:``)."""

    model_config = ConfigDict(extra="forbid")

    max_per_vm: int | None = Field(
        3,
        ge=1,
        le=99,
        description="Most snapshots one VM may have; a create past it is refused (null: no limit).",
    )
    max_age: timedelta = Field(
        timedelta(days=14),
        description="Snapshots older than this are listed by owner in the scheduled report.",
    )
    allow_memory: bool = Field(
        False, description="Whether `snapshot create --memory` (RAM of a running VM) is allowed."
    )

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> Any:
        return parse_duration(value)
