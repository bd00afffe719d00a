"""The approval card: what will happen, Approve/Deny, then the outcome in place of the buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from solti.bot.blocks.elements import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    fields,
    message,
    section,
    when,
)

APPROVE_ACTION = "approval_approve"
DENY_ACTION = "approval_deny"

_OUTCOME = {
    "approved": ":white_check_mark: Approved",
    "denied": ":no_entry: Denied",
    "expired": ":hourglass: Expired",
}


def _what(kind: str, target: str) -> str:
    if kind == "template_build":
        return f"Build a new template for *{escape(target)}*"
    if kind == "vm_create":
        return f"Create VM *{escape(target)}*"
    return f"Destroy template VMID *{escape(target)}*"


def _short(kind: str, target: str) -> str:
    """The request in a few plain words, for notification texts."""
    if kind == "template_build":
        return "build of " + target
    if kind == "vm_create":
        return "create of VM " + target
    return "destroy of template " + target


def tally(voters: Sequence[str], required: int) -> str:
    """``1 of 2 approvals (<@U1>)``: how far a request is from being approved."""
    who = f" ({', '.join(f'<@{v}>' for v in voters)})" if voters else ""
    return f"{len(voters)} of {required} approvals{who}"


def _body(
    kind: str, target: str, requester: str, details: Sequence[tuple[str, str]]
) -> list[Block]:
    blocks: list[Block] = [
        section(f":raised_hand: <@{requester}> asks: {_what(kind, target)}"),
    ]
    if details:
        blocks.append(fields([(k, escape(v)) for k, v in details]))
    return blocks


def pending_message(
    request_id: str,
    kind: str,
    target: str,
    requester: str,
    details: Sequence[tuple[str, str]],
    expires_at: datetime,
    voters: Sequence[str] = (),
    required: int = 1,
) -> dict[str, Any]:
    """The card with Approve/Deny; with ``required`` over 1 it counts the approvals so far."""
    blocks = _body(kind, target, requester, details)
    if required > 1:
        blocks.append(section(f":busts_in_silhouette: {tally(voters, required)}"))
    danger_confirm = None
    if kind == "template_destroy":
        danger_confirm = confirm_dialog(
            "Destroy this template?", f"Template VMID {escape(target)} will be deleted.", "Approve"
        )
    blocks.append(
        actions(
            button("Approve", APPROVE_ACTION, request_id, style="primary", confirm=danger_confirm),
            button("Deny", DENY_ACTION, request_id, style="danger"),
            block_id="approval",
        )
    )
    blocks.append(
        context(f"Request `{request_id}` · only approvers may decide · expires {when(expires_at)}")
    )
    so_far = f"; {tally(voters, required)}" if required > 1 else ""
    return message(
        f"Approval needed: {_short(kind, target)} (requested by <@{requester}>){so_far}", blocks
    )


def decided_message(
    request_id: str,
    kind: str,
    target: str,
    requester: str,
    details: Sequence[tuple[str, str]],
    state: str,
    decided_by: str | None,
    decided_at: datetime | None,
    voters: Sequence[str] = (),
) -> dict[str, Any]:
    """The same card with the buttons replaced by who decided and when (``voters``: every
    approver of a request that needed more than one)."""
    blocks = _body(kind, target, requester, details)
    outcome = _OUTCOME.get(state, state)
    approvers = [v for v in voters if v != decided_by] if state == "approved" else []
    deciders = [*approvers, decided_by]
    names = " and ".join(f"<@{v}>" for v in deciders if v)
    who = f" by {names}" if decided_by else " (nobody decided in time)"
    blocks.append(section(f"{outcome}{who} {when(decided_at)}"))
    blocks.append(context(f"Request `{request_id}`"))
    return message(f"{outcome.split(' ', 1)[1]}: {kind.replace('_', ' ')} {target}", blocks)


def requester_notice(
    kind: str, target: str, requester: str, state: str, decided_by: str | None
) -> dict[str, Any]:
    words = _short(kind, target)
    head, _, name = words.rpartition(" ")
    what = f"{head} *{escape(name)}*"
    if state == "approved":
        text = f"<@{requester}> your {what} was approved by <@{decided_by}>; it is starting now."
    elif state == "denied":
        text = f"<@{requester}> your {what} was denied by <@{decided_by}>."
    else:
        text = (
            f"<@{requester}> your {what} expired: no approver decided in time. "
            "Ask again if it is still needed."
        )
    return message(text.replace("*", ""), [section(text)])
