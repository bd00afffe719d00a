"""Lease messages: the reminder DM with [Extend] and [Remove now], and the lease-left wording."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    message,
    section,
    when,
)
from solti.bot.blocks.replies import REMOVE_ACTION

__all__ = [
    "EXTEND_ACTION",
    "extend_button",
    "lease_left",
    "reminder_message",
    "remove_button",
]

EXTEND_ACTION = "vm_extend"


def lease_left(ends: datetime | None, now: datetime) -> str:
    """``5d 3h left``, ``ended``, ``no lease``: what App Home and lists show."""
    if ends is None:
        return "no lease"
    left = ends - now
    if left <= timedelta(0):
        return "lease ended"
    days, hours = left.days, left.seconds // 3600
    if days:
        return f"{days}d {hours}h left"
    return f"{hours}h {(left.seconds % 3600) // 60}m left" if hours else "under an hour left"


def extend_button(vmid: int, label: str = "Extend") -> Block:
    return button(label, EXTEND_ACTION, str(vmid), style="primary")


def remove_button(vmid: int, name: str, label: str = "Remove now") -> Block:
    """The same confirmed Remove as `/solti vm remove` shows (one handler for both)."""
    return button(
        label,
        REMOVE_ACTION,
        str(vmid),
        style="danger",
        confirm=confirm_dialog(
            "Remove this VM?",
            f"VM {vmid} ({name}) and its disks will be deleted. This cannot be undone.",
            "Remove",
        ),
    )


def reminder_message(
    vmid: int, name: str, ends: datetime, on_expiry: str, extend_by: str | None
) -> dict[str, Any]:
    """The owner's DM before a lease ends."""
    then = "stopped" if on_expiry == "stop" else "removed with its disks"
    text = f"The lease of VM {vmid} ({name}) ends {when(ends)}; it will then be {then}."
    more = f"[Extend] adds {extend_by}. " if extend_by else ""
    return message(
        f"The lease of VM {vmid} ({name}) is ending",
        [
            section(f":hourglass_flowing_sand: {text}"),
            actions(extend_button(vmid), remove_button(vmid, name), block_id=f"lease-{vmid}"),
            context(f"{more}Or `/solti vm extend {vmid} DURATION` (30m, 12h, 7d, 2w)."),
        ],
    )
