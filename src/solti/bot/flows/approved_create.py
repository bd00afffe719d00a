"""After an approver's click: the count of distinct approvers, and the create it lets run.

``approvals.required`` (default 1) is how many different approvers must approve a request
before it runs; 2 is "four eyes". Every click is a row in ``slack_approval_votes`` (one per
person: a second click by the same approver is refused, not counted), and only the click that
completes the count decides the request (``approval_lifecycle.decide``), so the work starts once.
The requester never counts: ``authorize`` refuses their click before it gets here.
"""

from __future__ import annotations

import logging

from solti.bot.approvals import Approval
from solti.bot.blocks import approval as cards
from solti.bot.blocks import replies
from solti.bot.flows import create_gate
from solti.bot.flows.approval_records import update_card
from solti.bot.flows.caller import Caller
from solti.bot.flows.vms import build_vm
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying

__all__ = ["build_approved", "count_vote"]

log = logging.getLogger("solti.bot.flows.approved_create")


def count_vote(caller: Caller, approval: Approval) -> bool:
    """Count the caller's approval; True when it completes ``approvals.required``.

    A vote that does not complete the count is audited, shown on the card ("1 of 2
    approvals") and confirmed to the approver; the request stays pending.
    """
    runtime = caller.runtime
    required = runtime.rules.approvals_required
    vote = runtime.approvals.vote(approval.id, caller.user)
    if not vote.added:
        caller.say_error(
            f"You have already approved request `{approval.id}`; it needs {required} different "
            f"approvers ({cards.tally(vote.voters, required)}). Ask another approver."
        )
        return False
    if len(vote.voters) >= required:
        return True
    try:
        runtime.audit.record(
            action=approval.kind.replace("_", " ") + " vote",
            actor=caller.user,
            via="slack",
            result="ok",
            params={
                "target": approval.target,
                "approval": approval.id,
                "votes": f"{len(vote.voters)} of {required}",
            },
            request_id=f"{approval.id}:vote:{caller.user}",
            approver=caller.user,
        )
    except Exception:
        log.exception("could not write the audit record of a vote on %s", approval.id)
    _show_tally(runtime, approval, vote.voters)
    caller.reply(
        replies.info_message(
            f":ballot_box_with_check: Your approval of `{approval.id}` is counted: "
            f"{cards.tally(vote.voters, required)}. It runs once "
            f"{required - len(vote.voters)} more approver(s) approve."
        )
    )
    return False


def _show_tally(runtime: Runtime, approval: Approval, voters: tuple[str, ...]) -> None:
    """The pending card again, with the approvals so far (its buttons stay)."""
    card = cards.pending_message(
        approval.id,
        approval.kind,
        approval.target,
        approval.requester,
        list(approval.details),
        approval.expires_at,
        voters=voters,
        required=runtime.rules.approvals_required,
    )
    try:
        update_card(runtime, approval, card)
    except Exception as exc:
        log.warning("could not show the votes on %s: %s", approval.id, type(exc).__name__)


def build_approved(runtime: Runtime, approval: Approval) -> None:
    """The create an approval let through: the stored request and plan, built as shown, with
    its progress in the channel it was asked in and answers to the requester there."""
    request, plan = create_gate.request_and_plan(approval)
    channel = approval.origin_channel or approval.requester

    def tell(message: dict[str, object]) -> None:
        send_retrying(
            lambda: runtime.client.chat_postEphemeral(
                channel=channel, user=approval.requester, **message
            ),
            "requester notice",
        )

    caller = Caller(runtime, approval.requester, channel, approval.id, tell)
    exempt = (approval.payload or {}).get("lease_exempt")  # as it was when asked
    build_vm(caller, request, plan, lease_exempt=exempt, approval=approval)
