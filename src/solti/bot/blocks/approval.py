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
    return f"Destroy template VMID *{escape(target)}*"


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
) -> dict[str, Any]:
    blocks = _body(kind, target, requester, details)
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
    what = "build of " + target if kind == "template_build" else "destroy of template " + target
    return message(f"Approval needed: {what} (requested by <@{requester}>)", blocks)


def decided_message(
    request_id: str,
    kind: str,
    target: str,
    requester: str,
    details: Sequence[tuple[str, str]],
    state: str,
    decided_by: str | None,
    decided_at: datetime | None,
) -> dict[str, Any]:
    """The same card with the buttons replaced by who decided and when."""
    blocks = _body(kind, target, requester, details)
    outcome = _OUTCOME.get(state, state)
    who = f" by <@{decided_by}>" if decided_by else " (nobody decided in time)"
    blocks.append(section(f"{outcome}{who} {when(decided_at)}"))
    blocks.append(context(f"Request `{request_id}`"))
    return message(f"{outcome.split(' ', 1)[1]}: {kind.replace('_', ' ')} {target}", blocks)


def requester_notice(
    kind: str, target: str, requester: str, state: str, decided_by: str | None
) -> dict[str, Any]:
    what = (
        f"build of *{escape(target)}*"
        if kind == "template_build"
        else f"destroy of template *{escape(target)}*"
    )
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
