"""What a request and its decision leave behind: audit rows, the card, the requester's notice.

Shared by the asking flows (``templates.request_approval``, ``create_gate.ask_for_create``)
and the deciding ones (``approval_lifecycle``, ``approved_create``), so the rows are written,
completed and shown one way.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.approvals import KINDS, Approval, request_action, request_outcome
from solti.bot.blocks import approval as cards
from solti.bot.cluster_context import CLUSTER_DETAIL
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying

__all__ = [
    "complete_decided_requests",
    "finish_request",
    "post_card",
    "record_decision",
    "refresh_card",
    "request_cluster",
    "tell_requester",
    "update_card",
]

log = logging.getLogger("solti.bot.flows.approval_records")


def record_decision(
    runtime: Runtime,
    *,
    actor: str,
    action: str,
    result: str,
    request_id: str,
    params: dict[str, Any],
    error: str | None = None,
    approver: str | None = None,
    about: Approval | None = None,
) -> None:
    """One request or decision in the audit log (asked, approved, denied, expired).

    A decision ``about`` a request is recorded on the request's cluster (``request_cluster``),
    not the cluster of the channel the approver clicked in. A failing audit log must not hide
    the decision from the people waiting for it: the failure is logged and the flow goes on.
    """
    if about is not None:
        with runtime.on_cluster(request_cluster(runtime, about)):
            record_decision(
                runtime, actor=actor, action=action, result=result, request_id=request_id,
                params=params, error=error, approver=approver,
            )  # fmt: skip
        return
    try:
        runtime.audit.record(
            action=action,
            actor=actor,
            via="slack",
            result=result,
            error=error,
            params=params,
            request_id=request_id,
            approver=approver,
        )
    except Exception:
        log.exception("could not write the audit record of %s", action)


def finish_request(runtime: Runtime, approval: Approval) -> bool:
    """Complete the request's ``running`` row with its decision; never fails the caller.

    The row is found by the request id, not kept in memory, so a request posted before a
    restart (or by another bot on the same file) is completed too. A row already complete is
    left alone, so a second call (the sweep after a decision) changes nothing.
    """
    audit = runtime.audit
    if audit is None or approval.state == "pending":
        return False
    try:
        row = audit.find_by_request_id(  # written on the requester's cluster
            approval.id, action=request_action(approval.kind), any_cluster=True
        )
        if row is None or row.id is None or row.result != "running":
            return False
        result, error = request_outcome(approval)
        decided = approval.decided_at or runtime.approvals.clock()
        audit.finish(
            row.id,
            result,
            error=error,
            approver=approval.decided_by,
            duration_ms=max(0, int((decided - row.at).total_seconds() * 1000)),
            params={"decision": approval.state, "decided_at": decided.isoformat()},
        )
        return True
    except Exception:  # the decision stands; the sweep tries the row again
        log.exception("could not complete the audit record of request %s", approval.id)
        return False


def complete_decided_requests(runtime: Runtime) -> int:
    """Complete request rows left ``running`` although their approval is decided.

    Rows written before requests were completed, or a stop between a decision and its record,
    would otherwise read as a crash forever; every expiry sweep (also the first after a start)
    settles them from the approvals table.
    """
    if runtime.audit is None:
        return 0
    done = 0
    for kind in KINDS:
        try:
            rows = runtime.audit.query(action=request_action(kind), result="running", limit=None)
        except Exception:
            log.exception("could not list open %s rows", request_action(kind))
            continue
        for row in rows:
            approval = runtime.approvals.get(row.request_id) if row.request_id else None
            if approval is not None and finish_request(runtime, approval):
                done += 1
    return done


def post_card(runtime: Runtime, approval: Approval, details: list[tuple[str, str]]) -> None:
    """The pending card with Approve/Deny in the approvals channel, and where it went stored
    with the approval, so decisions and tallies can update that message in place."""
    card = cards.pending_message(
        approval.id,
        approval.kind,
        approval.target,
        approval.requester,
        details,
        approval.expires_at,
        required=runtime.rules.approvals_required,
    )
    response = send_retrying(
        lambda: runtime.client.chat_postMessage(channel=runtime.rules.approvals_channel, **card),
        "approval card",
    )
    runtime.approvals.attach_message(approval.id, response["channel"], response["ts"])


def update_card(runtime: Runtime, approval: Approval, card: dict[str, Any]) -> None:
    """The approval's card message replaced by ``card``; nothing when it was never posted."""
    if approval.channel is None or approval.ts is None:
        return
    send_retrying(
        lambda: runtime.client.chat_update(channel=approval.channel, ts=approval.ts, **card),
        "approval card update",
    )


def refresh_card(runtime: Runtime, approval: Approval) -> None:
    card = cards.decided_message(
        approval.id,
        approval.kind,
        approval.target,
        approval.requester,
        list(approval.details),
        approval.state,
        approval.decided_by,
        approval.decided_at,
        voters=runtime.approvals.voters(approval.id)
        if runtime.rules.approvals_required > 1
        else (),
    )
    update_card(runtime, approval, card)


def tell_requester(runtime: Runtime, approval: Approval) -> None:
    channel = approval.origin_channel or approval.requester
    notice = cards.requester_notice(
        approval.kind, approval.target, approval.requester, approval.state, approval.decided_by
    )
    try:
        send_retrying(
            lambda: runtime.client.chat_postMessage(channel=channel, **notice), "requester notice"
        )
    except Exception as exc:
        log.warning("could not tell the requester of %s: %s", approval.id, type(exc).__name__)


def request_cluster(runtime: Runtime, approval: Approval) -> str | None:
    """The cluster a request is for: the card's ``Cluster`` line (stored with the approval),
    else its channel's route (a request from before clusters), else None (default)."""
    cluster = dict(approval.details).get(CLUSTER_DETAIL)
    return cluster or runtime.clusters.route(approval.origin_channel)
