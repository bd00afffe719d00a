"""`/solti vm rebuild VMID [TEMPLATE]` and the [Rebuild] button (a prompt, or an owner's notice).

The slash command only plans (``Provisioner.rebuild_vm(dry_run=True)``) and shows the plan with
a danger button behind Slack's confirm dialog; the click runs the same rebuild, whichever
message it came from. Both ask ``Caller.authorize("vm rebuild", owner=...)``: the owner or an
admin. A refusal is an audit record, as for the other VM verbs.

The rebuild itself shows the live progress message a create has (``ProgressMessage``: one
message edited at each step, details in its thread), remembered by request id in the
``ProgressBook``: a bot restarted mid-rebuild finds it and ``bot.recovery`` edits it to what
reconcile did (a rebuild cut after its destroy is finished, one cut before is left as it was).
"""

from __future__ import annotations

from dataclasses import replace

from solti.bot.blocks import replies
from solti.bot.blocks.rebuild_blocks import (
    rebuild_done_message,
    rebuild_failed_message,
    rebuild_prompt_message,
    rebuild_title,
)
from solti.bot.flows.caller import Caller, channel_progress, describe_error

__all__ = ["prompt", "rebuild"]


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
    caller.record_denied("vm rebuild", decision.reason, vmid=vmid)
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
    """The confirmed click: rebuild now (idempotent by the click's request id), with a live
    progress message in the channel (or the DM) the button was in."""
    if not _allowed(caller, vmid):
        return
    runtime = caller.runtime
    progress = channel_progress(caller, rebuild_title(vmid))
    if progress is None:
        return
    try:
        progress.post()
    except Exception as exc:
        caller.say_error(
            f"I could not post in this channel ({type(exc).__name__}); "
            "invite me with `/invite @solti`, or click the button in your DM with me."
        )
        return
    try:
        result = runtime.provisioner.rebuild_vm(
            vmid, template=template, actor=caller.user, via="slack",
            request_id=caller.request_id, progress=progress,
        )  # fmt: skip
    except Exception as exc:
        reason, step = describe_error(exc)
        # Not ``progress.fail``: its generic words say "nothing else was changed", and a
        # rebuild may have destroyed the old VM by then; this failure says how to finish.
        steps = progress.steps
        if steps and steps[-1].state == "running":
            steps[-1] = replace(steps[-1], state="failed")
        step = step or (steps[-1].name if steps else None)
        failed = rebuild_failed_message(progress.title, steps, step, reason, caller.user)
        progress.finish(failed, [f"failed at {step or 'start'}: {reason}"])
        return
    progress.title = rebuild_title(vmid, result.vm.name)
    details = [f"request {caller.request_id}"]
    if not result.nothing_to_do:
        new = result.plan.template
        details.append(f"template {new.name} v{new.version} (VMID {new.vmid})")
    if result.duration_ms is not None:
        details.append(f"rebuild: {result.duration_ms} ms")
    progress.finish(rebuild_done_message(progress.title, result, caller.user), details)


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
