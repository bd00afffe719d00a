"""`/solti vm rebuild VMID [TEMPLATE]` and the [Rebuild] button (a prompt, or an owner's notice).

The slash command only plans (``Provisioner.rebuild_vm(dry_run=True)``) and shows the plan with
a danger button behind Slack's confirm dialog; the click runs the same rebuild, whichever
message it came from. Both ask ``Caller.authorize("vm rebuild", owner=...)``: the owner or an
admin. A refusal is an audit record, as for the other VM verbs.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.blocks import replies
from solti.bot.blocks.rebuild_blocks import rebuild_prompt_message
from solti.bot.flows.caller import Caller, describe_error

__all__ = ["prompt", "rebuild"]

log = logging.getLogger("solti.bot.flows.rebuild")


def _allowed(caller: Caller, vmid: int) -> bool:
    """The owner or an admin; refusals answered and recorded."""
    try:
        owner = caller.runtime.provisioner.owner_of(vmid)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return False
    if owner is None:
        caller.say_error(
            f"VM {vmid} was not made by Solti (no create record); rebuild re-creates only "
            "VMs Solti made. `/solti vm list` shows them."
        )
        return False
    decision = caller.authorize("vm rebuild", owner=owner)
    if decision:
        return True
    try:
        caller.runtime.audit.record(
            action="vm rebuild", actor=caller.user, via="slack", result="denied",
            error=decision.reason, vmid=vmid, request_id=caller.request_id,
        )  # fmt: skip
    except Exception:
        log.exception("could not write the audit record of a refused vm rebuild")
    caller.say_error(decision.reason)
    return False


def prompt(caller: Caller, vmid: int, template: str | None) -> None:
    """The plan (old and new versions, what is kept, that the disk is lost) and [Rebuild]."""
    if not _allowed(caller, vmid):
        return
    try:
        planned = caller.runtime.provisioner.rebuild_vm(
            vmid, template=template, dry_run=True, actor=caller.user, via="slack"
        )
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    if planned.nothing_to_do:
        caller.reply(replies.info_message(f":white_check_mark: {planned.note}."))
        return
    caller.reply(rebuild_prompt_message(planned.plan, template))


def rebuild(caller: Caller, vmid: int, template: str | None) -> None:
    """The confirmed click: rebuild now (idempotent by the click's request id)."""
    if not _allowed(caller, vmid):
        return
    caller.reply(replies.info_message(f":arrows_counterclockwise: Rebuilding VM {vmid}..."))
    try:
        result = caller.runtime.provisioner.rebuild_vm(
            vmid, template=template, actor=caller.user, via="slack",
            request_id=caller.request_id,
        )  # fmt: skip
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(replies.info_message(_done(result)))


def _done(result: Any) -> str:
    if result.nothing_to_do:
        return f":white_check_mark: {result.note}."
    vm, plan = result.vm, result.plan
    was = plan.old_version or plan.old_template_name or "?"
    return (
        f":white_check_mark: VM {vm.vmid} ({vm.name}) is rebuilt from {vm.template_name} "
        f"{vm.template_version or ''} (was {was}): {vm.status}."
    )


def dismiss(caller: Caller, template_vmid: int) -> None:
    """[Dismiss] on a notice: remembered (across restarts), so it is never sent again."""
    from solti.bot.notices import NoticeStore

    store = NoticeStore(caller.runtime.database)
    if not store.dismiss(caller.user, template_vmid, caller.runtime.clock()):
        caller.say_error("That notice is not yours, or it is gone.")
        return
    caller.reply(
        replies.info_message(
            f"Dismissed: no more word about template {template_vmid}. "
            "You hear again when a newer build is out."
        )
    )
