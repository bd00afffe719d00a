"""An approval after it is asked: an approver's click, expiry, and running what was approved.

Every kind (``template_build``, ``template_destroy``, ``vm_create``) is decided here; the work
itself is the kind's flow (``templates.run_approved``, ``approved_create.build_approved``).
"""

from __future__ import annotations

import logging

from solti.bot.approvals import Approval
from solti.bot.flows import approved_create, templates
from solti.bot.flows.approval_records import (
    complete_decided_requests,
    finish_request,
    record_decision,
    refresh_card,
    request_cluster,
    tell_requester,
)
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.runtime import Runtime

__all__ = ["decide", "expire_due"]

log = logging.getLogger("solti.bot.flows.approval_lifecycle")


def _kind_words(kind: str) -> str:
    return kind.replace("_", " ")


def decide(caller: Caller, request_id: str, approve: bool) -> None:
    """An approver's click: checked, applied once, audited, shown in place and to the requester."""
    runtime = caller.runtime
    approval = runtime.approvals.get(request_id)
    if approval is None:
        caller.say_error(f"Request `{request_id}` is unknown.")
        return
    action = _kind_words(approval.kind) + (" approve" if approve else " deny")
    if approval.state != "pending":
        caller.say_error(
            f"Request `{request_id}` is already {approval.state}"
            + (f" by <@{approval.decided_by}>" if approval.decided_by else "")
            + "; nothing was done."
        )
        return
    allowed = caller.authorize(
        "approval approve" if approve else "approval deny", requester=approval.requester
    )
    if not allowed:
        record_decision(
            runtime,
            actor=caller.user,
            action=action,
            result="denied",
            error=allowed.reason,
            params={"target": approval.target, "approval": request_id},
            request_id=f"{request_id}:{caller.request_id}",
            about=approval,
        )
        caller.say_error(allowed.reason)
        return
    if approve and not approved_create.count_vote(caller, approval):  # approvals.required
        return
    outcome = runtime.approvals.decide(request_id, "approved" if approve else "denied", caller.user)
    if outcome is None:
        return
    approval = outcome.approval
    if not outcome.changed:
        caller.say_error(f"Request `{request_id}` is already {approval.state}; nothing was done.")
        return
    record_decision(
        runtime,
        actor=caller.user,
        action=action,
        result={"approved": "ok", "denied": "denied", "expired": "expired"}[approval.state],
        approver=caller.user if approval.state != "expired" else None,
        params={"target": approval.target, "approval": request_id, "requester": approval.requester},
        request_id=f"{request_id}:decision",
        about=approval,
    )
    finish_request(runtime, approval)
    refresh_card(runtime, approval)
    tell_requester(runtime, approval)
    if approval.state == "approved":
        _run(runtime, approval)


def _run(runtime: Runtime, approval: Approval) -> None:
    """The approved change, on the cluster it was requested for (not the approver's)."""
    with runtime.on_cluster(request_cluster(runtime, approval)):
        _run_on_cluster(runtime, approval)


def _run_on_cluster(runtime: Runtime, approval: Approval) -> None:
    if approval.kind == "vm_create":
        try:
            approved_create.build_approved(runtime, approval)
        except Exception as exc:
            log.error("could not run the create of %s: %s", approval.id, describe_error(exc)[0])
        return
    templates.run_approved(runtime, approval)


def expire_due(runtime: Runtime) -> int:
    """Expire overdue requests: state ``expired`` (not ``denied``), card and requester updated."""
    count = 0
    for approval in runtime.approvals.due():
        outcome = runtime.approvals.decide(approval.id, "expired", None)
        if outcome is None or not outcome.changed:
            continue
        count += 1
        record_decision(
            runtime,
            actor="solti",
            action=_kind_words(approval.kind) + " expire",
            result="expired",
            params={
                "target": approval.target,
                "approval": approval.id,
                "requester": approval.requester,
            },
            request_id=f"{approval.id}:decision",
            about=approval,
        )
        finish_request(runtime, outcome.approval)
        try:
            refresh_card(runtime, outcome.approval)
            tell_requester(runtime, outcome.approval)
        except Exception as exc:
            log.warning("could not update expired request %s: %s", approval.id, type(exc).__name__)
    complete_decided_requests(runtime)
    return count
