"""`/solti snapshot create|list|rollback|delete` and the confirmed [Roll back]/[Delete] clicks.

A running VM's rollback prompt offers two buttons: [Roll back to NAME] starts it again (PVE's
``start=1``), [Roll back, leave stopped] does not (the CLI's ``--no-start``).

Every verb asks ``Caller.authorize`` with the VM's owner (owner or admin, ``bot.authorization``)
and records a refusal in the audit log. Rollback and delete never act on the command: they
post a prompt whose danger button sits behind a Slack ``confirm`` dialog; the click comes back
with ``confirmed=True`` and is authorized again (the VM may have changed hands since).
"""

from __future__ import annotations

from typing import Any

from solti.bot.blocks import replies, snapshot_blocks
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.grammar.snapshot_grammar import SnapshotCreate

__all__ = ["create", "delete", "list_snapshots", "rollback"]


def _allowed(caller: Caller, verb: str, vmid: int, snapshot: str | None = None) -> bool:
    """Authorized for ``snapshot <verb>`` on ``vmid``; else the refusal is said and recorded."""
    try:
        owner = caller.runtime.provisioner.owner_of(vmid)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return False
    decision = caller.authorize(f"snapshot {verb}", owner=owner)
    if decision:
        return True
    caller.record_denied(
        f"snapshot {verb}",
        decision.reason,
        vmid=vmid,
        params={"snapshot": snapshot} if snapshot else None,
    )
    caller.say_error(decision.reason)
    return False


def create(caller: Caller, command: SnapshotCreate) -> None:
    if not _allowed(caller, "create", command.vmid, command.name):
        return
    try:
        result = caller.runtime.provisioner.create_snapshot(
            command.vmid, command.name, description=command.description,
            memory=command.memory, actor=caller.user, via="slack",
            request_id=caller.request_id,
        )  # fmt: skip
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    ram = " with its RAM" if command.memory else ""
    caller.reply(
        replies.info_message(
            f":camera: VM {result.vmid} ({result.name}): snapshot `{result.snapshot}` taken{ram}."
        )
    )


def list_snapshots(caller: Caller, vmid: int) -> None:
    if not _allowed(caller, "list", vmid):
        return
    try:
        listing = caller.runtime.provisioner.list_snapshots(vmid)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(snapshot_blocks.snapshot_list_message(listing))


def _left_stopped(preview: Any) -> str | None:
    """What the prompt's second button does, said as its confirm dialog says it: None when
    there is nothing to choose (a stopped VM stays stopped, a RAM snapshot resumes it)."""
    if not preview.running or preview.snapshot.memory:
        return None
    from solti.provisioning.snapshots import power_after_rollback  # the snapshot verbs' own

    started = power_after_rollback(False, True)
    return str(preview.lost).replace(started, power_after_rollback(False, False))


def rollback(
    caller: Caller, vmid: int, name: str, *, confirmed: bool = False, start: bool = True
) -> None:
    """Without ``confirmed``: the prompt saying what is lost; with it: the rollback
    (``start=False``: a VM that was running is left stopped)."""
    if not _allowed(caller, "rollback", vmid, name):
        return
    provisioner = caller.runtime.provisioner
    try:
        if not confirmed:
            preview = provisioner.rollback_preview(vmid, name)
            caller.reply(snapshot_blocks.rollback_prompt_message(preview, _left_stopped(preview)))
            return
        result = provisioner.rollback_snapshot(
            vmid, name, actor=caller.user, via="slack", request_id=caller.request_id,
            start=start,
        )  # fmt: skip
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    state = (
        "it is running again, as it was before."
        if result.status == "running"
        else f"it is stopped (`/solti vm start {vmid}` starts it)."
    )
    caller.reply(
        replies.info_message(
            f":rewind: VM {vmid} ({result.name}) is back at snapshot `{name}`; {state}"
        )
    )


def delete(caller: Caller, vmid: int, name: str, *, confirmed: bool = False) -> None:
    if not _allowed(caller, "delete", vmid, name):
        return
    provisioner = caller.runtime.provisioner
    try:
        if not confirmed:
            listing = provisioner.list_snapshots(vmid)
            found = [s for s in listing.snapshots if s.name == name]
            if not found:
                have = ", ".join(f"`{s.name}`" for s in listing.snapshots) or "none"
                caller.say_error(f"VM {vmid} has no snapshot named `{name}` (it has: {have}).")
                return
            caller.reply(snapshot_blocks.delete_prompt_message(vmid, listing.name, found[0]))
            return
        result = provisioner.delete_snapshot(
            vmid, name, actor=caller.user, via="slack", request_id=caller.request_id
        )
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(
        replies.info_message(f":wastebasket: VM {vmid} ({result.name}): snapshot `{name}` deleted.")
    )
