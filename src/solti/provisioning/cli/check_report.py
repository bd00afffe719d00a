"""The vocabulary of `solti check`: one result per line, the settings it reads, the report.

Kept free of I/O so the rules about Slack ids and the report layout are tested without servers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["CheckConfig", "CheckResult", "Status", "format_report", "policy_id_results"]

Status = Literal["ok", "warn", "skip", "fail"]


@dataclass(frozen=True)
class CheckResult:
    """One line of the report."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{6,}$")


@dataclass
class CheckConfig:
    """What the checks need, read once from the environment and the policy file."""

    proxmox_url: str | None = None
    token_id: str | None = None
    token_secret: str | None = field(default=None, repr=False)
    verify_ssl: bool = True
    ca_bundle: str | None = None
    db_path: Path = Path("solti.db")
    config_path: str | None = None
    image_storage: str | None = None
    vm_storage: str | None = None
    bridge: str | None = None
    approvers: list[str] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)  # policy key -> channel id
    clusters: dict[str, Any] = field(default_factory=dict)  # policy `clusters:` name -> entry


def policy_id_results(config: CheckConfig) -> list[CheckResult]:
    """Slack ids in the policy have the right shape (a name or a typo fails here, not at 3 am)."""
    problems: list[str] = []
    for key, channel in config.channels.items():
        if channel and not _CHANNEL_ID.match(channel):
            problems.append(f"{key}: {channel!r} is not a channel id (C… or G…)")
    for user in config.approvers:
        if not (_USER_ID.match(user) or _USERGROUP_ID.match(user)):
            problems.append(f"approvers: {user!r} is not a user (U…/W…) or usergroup (S…) id")
    for user in config.admins:
        if not (_USER_ID.match(user) or _USERGROUP_ID.match(user)):
            problems.append(f"admins: {user!r} is not a user (U…/W…) or usergroup (S…) id")
    if problems:
        return [
            CheckResult(
                "policy.ids",
                "fail",
                "; ".join(problems),
                "use ids, not names: in Slack open the channel or profile, "
                "'Copy link' / 'Copy member ID'",
            )
        ]
    counted = len(config.channels) + len(config.approvers) + len(config.admins)
    if not config.approvers:
        return [
            CheckResult(
                "policy.ids",
                "warn",
                f"{counted} ids look right, but no approvers: template builds cannot be approved",
                "add Slack user or usergroup ids to `approvers` in the policy file",
            )
        ]
    return [CheckResult("policy.ids", "ok", f"{counted} channel, user and group ids look right")]


def format_report(results: list[CheckResult]) -> str:
    """One line per item; the fix indented under a failure."""
    width = max((len(result.name) for result in results), default=0)
    lines: list[str] = []
    for result in results:
        lines.append(f"{result.status.upper():<4}  {result.name:<{width}}  {result.detail}")
        if result.fix and result.status != "ok":
            lines.append(f"{'':<4}  {'':<{width}}  fix: {result.fix}")
    return "\n".join(lines)
