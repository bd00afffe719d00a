"""Who may do what, where: pure decisions over the policy file.

Kept free of I/O so every rule is unit-tested on its own; callers resolve the requester's
usergroups (a Slack API call) beforehand and pass them in. A ``Decision`` carries the message a
person sees when refused, so the wording lives next to the rule it explains.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

# One Decision for every rule, Slack's and the CLI's (shared with ``authorize``).
from solti.provisioning.authorization_rules import ALLOW, Decision

__all__ = ["Decision", "Rules", "rules_from_policy"]

DEFAULT_APPROVAL_EXPIRY = timedelta(hours=24)


def _ids(values: Iterable[Any] | None) -> frozenset[str]:
    return frozenset(str(v).strip() for v in (values or ()) if str(v).strip())


@dataclass(frozen=True)
class Rules:
    """The policy file's Slack-facing part. Empty ``creators``/``allowed_channels`` mean anyone."""

    approvers: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    creators: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    approvals_channel: str | None = None
    reports_channel: str | None = None
    reports_cron: str | None = None
    reports_timezone: str = "UTC"
    notify_owners: bool = False
    max_vms_per_user: int | None = None
    approval_expiry: timedelta = DEFAULT_APPROVAL_EXPIRY
    extra: dict[str, Any] = field(default_factory=dict)
    # Distinct approvers a request needs (policy `approvals.required`; 2: four eyes).
    approvals_required: int = 1
    # Who may create with `--lease none` (policy `leases.exempt`): users or usergroups.
    lease_exempt: frozenset[str] = frozenset()

    @property
    def usergroups(self) -> frozenset[str]:
        """Usergroup ids (S...) named anywhere: only these need a Slack lookup."""
        every = self.approvers | self.admins | self.creators | self.lease_exempt
        return frozenset(i for i in every if i.startswith("S"))

    @staticmethod
    def _member(ids: frozenset[str], user: str, groups: Collection[str]) -> bool:
        return user in ids or any(g in ids for g in groups)

    def is_admin(self, user: str, groups: Collection[str] = ()) -> bool:
        return self._member(self.admins, user, groups)

    def is_lease_exempt(self, user: str, groups: Collection[str] = ()) -> bool:
        """In `leases.exempt` by user id (or CLI name) or through a usergroup."""
        return self._member(self.lease_exempt, user, groups)

    def channel_allowed(self, channel: str | None) -> Decision:
        if not self.allowed_channels or channel in self.allowed_channels:
            return ALLOW
        if channel is not None and channel == self.approvals_channel:
            return ALLOW
        where = ", ".join(f"<#{c}>" for c in sorted(self.allowed_channels))
        return Decision(False, f"Solti is not enabled in this channel. Use it in {where}.")

    def may_create(self, user: str, groups: Collection[str] = ()) -> Decision:
        if not self.creators or self._member(self.creators, user, groups):
            return ALLOW
        if self.is_admin(user, groups):
            return ALLOW
        return Decision(
            False,
            "You are not on the list of people who may create VMs (policy `creators`). "
            "Ask an admin to add you or your usergroup.",
        )

    def may_request_template(self, user: str, groups: Collection[str] = ()) -> Decision:
        """Template builds are approved later; asking needs the same right as creating."""
        return self.may_create(user, groups)

    def may_approve(self, user: str, groups: Collection[str], requester: str) -> Decision:
        if user == requester:
            return Decision(
                False, "You cannot approve or deny your own request; ask another approver."
            )
        if self._member(self.approvers, user, groups):
            return ALLOW
        return Decision(False, "Only approvers (policy `approvers`) may decide on this request.")

    def quota_left(self, owned: int) -> int | None:
        if self.max_vms_per_user is None:
            return None
        return max(self.max_vms_per_user - owned, 0)

    def check_quota(self, owned: int, user: str = "", groups: Collection[str] = ()) -> Decision:
        left = self.quota_left(owned)
        if left is None or left > 0:
            return ALLOW
        return Decision(
            False,
            f"You already have {owned} VMs, the most allowed per person "
            f"({self.max_vms_per_user}). Remove one with `/solti vm remove VMID` first.",
        )

    def may_manage_vm(self, user: str, groups: Collection[str], owner: str | None) -> Decision:
        if owner is not None and owner == user:
            return ALLOW
        if self.is_admin(user, groups):
            return ALLOW
        whose = f"<@{owner}>" if owner else "someone else (or nobody recorded)"
        return Decision(
            False, f"This VM belongs to {whose}; only its owner or an admin may do that."
        )


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def _expiry(value: Any) -> timedelta:
    if value is None:
        return DEFAULT_APPROVAL_EXPIRY
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    text = str(value).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return timedelta(seconds=float(text[:-1]) * units[text[-1]])
    if text.replace(".", "", 1).isdigit():
        return timedelta(seconds=float(text))
    return DEFAULT_APPROVAL_EXPIRY


def rules_from_policy(policy: Any) -> Rules:
    """Adapt provisioning's ``Policy`` (or a plain mapping) without depending on its internals."""
    approvals = _get(policy, "approvals")
    expiry = (
        _get(approvals, "expiry")
        or _get(approvals, "expire_after")
        or _get(approvals, "expiry_seconds")
        or _get(approvals, "ttl")
        or _get(policy, "approvals_expiry")
    )
    minutes = _get(approvals, "expiry_minutes") or _get(approvals, "expire_minutes")
    if expiry is None and minutes is not None:
        expiry = timedelta(minutes=float(minutes))
    hours = _get(approvals, "expiry_hours") or _get(approvals, "expire_hours")
    if expiry is None and hours is not None:
        expiry = timedelta(hours=float(hours))
    channel = _get(approvals, "channel") if not isinstance(approvals, str | type(None)) else None
    return Rules(
        approvers=_ids(_get(policy, "approvers")),
        admins=_ids(_get(policy, "admins")),
        creators=_ids(_get(policy, "creators")),
        allowed_channels=_ids(_get(policy, "allowed_channels")),
        approvals_channel=_get(policy, "approvals_channel") or channel,
        reports_channel=_get(policy, "reports", "channel"),
        reports_cron=_get(policy, "reports", "cron"),
        reports_timezone=_get(policy, "reports", "timezone") or "UTC",
        notify_owners=bool(_get(policy, "reports", "notify_owners")),
        max_vms_per_user=_get(policy, "quotas", "max_vms_per_user"),
        approval_expiry=_expiry(expiry),
        approvals_required=int(_get(approvals, "required") or 1),
        lease_exempt=_ids(_get(policy, "leases", "exempt")),
    )
