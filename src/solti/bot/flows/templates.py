"""Template flows: list, ask for a build or destroy, decide, expire, and run what was approved."""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.approvals import KINDS, Approval, request_action, request_outcome
from solti.bot.blocks import approval as cards
from solti.bot.blocks import progress as progress_views
from solti.bot.blocks import replies
from solti.bot.blocks.elements import mention
from solti.bot.cluster_context import CLUSTER_DETAIL
from solti.bot.flows import approved_create
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.flows.template_copies_flow import build_copies_approved, copies_text, split_target
from solti.bot.progress_message import ProgressMessage
from solti.bot.recovery_book import ProgressBook
from solti.bot.runtime import Runtime
from solti.bot.slackcalls import send_retrying
from solti.provisioning import TemplateBuildRequest

__all__ = [
    "complete_decided_requests",
    "decide",
    "expire_due",
    "finish_request",
    "list_templates",
    "request_approval",
]

log = logging.getLogger("solti.bot.flows.templates")


def list_templates(caller: Caller) -> None:
    templates = caller.runtime.provisioner.list_templates()
    caller.reply(replies.template_list_message(sorted(templates, key=lambda t: t.vmid)))


def _latest(templates: list[Any], distribution: str) -> Any | None:
    own = [t for t in templates if t.distribution == distribution]
    return max(own, key=lambda t: t.vmid) if own else None


def _build_details(runtime: Runtime, target: str) -> list[tuple[str, str]]:
    """What will happen: image, upstream version, which template stops being the latest
    (and, for ``DISTRO --all-nodes``, on which nodes)."""
    distribution, all_nodes = split_target(target)
    entry = runtime.policy.catalog().get(distribution)  # NotFound names the known ones
    details = [("Distribution", distribution), ("Image", str(entry.image_url))]
    if all_nodes:
        details.append(("Nodes", copies_text(runtime, distribution)))
    try:
        statuses = runtime.provisioner.check_updates(distribution)
        status = statuses[0] if statuses else None
    except Exception as exc:
        status = None
        details.append(("Upstream version", f"unknown ({describe_error(exc)[0][:80]})"))
    if status is not None:
        details.append(("Upstream version", status.upstream_version or "unknown"))
    templates = runtime.provisioner.list_templates()
    current = _latest(templates, distribution)
    if current is not None:
        details.append(
            (
                "Replaces as latest",
                f"{current.name} (VMID {current.vmid}, {current.version or '?'}); kept",
            )
        )
    else:
        details.append(("Replaces", "nothing: first template for it"))
    return details


def _destroy_details(runtime: Runtime, vmid: int) -> list[tuple[str, str]]:
    template = runtime.provisioner.verify_template(vmid)
    clones = [vm for vm in runtime.provisioner.list_vms() if vm.template_vmid == vmid]
    return [
        ("Template", f"{template.name} (VMID {vmid})"),
        ("Distribution", template.distribution or "?"),
        ("Version", template.version or "?"),
        ("VMs cloned from it", str(len(clones))),
    ]


def request_approval(caller: Caller, kind: str, target: str) -> None:
    """Validate, then post the request to the approvals channel with Approve/Deny."""
    runtime = caller.runtime
    rules = runtime.rules
    allowed = caller.authorize("template build" if kind == "template_build" else "template destroy")
    if not allowed:
        caller.say_error(allowed.reason)
        return
    if not rules.approvals_channel:
        caller.say_error(
            "No approvals channel is configured (policy `approvals_channel`), so template "
            "changes cannot be approved. Ask an admin to set it."
        )
        return
    try:
        details = (
            _build_details(runtime, target)
            if kind == "template_build"
            else _destroy_details(runtime, int(target))
        )
    except Exception as exc:
        caller.say_error(describe_error(exc)[0], "template")
        return
    if runtime.clusters.many:  # the approver sees it, and the approved run acts on it
        details = [*details, (CLUSTER_DETAIL, caller.cluster)]
    approval = runtime.approvals.create(
        kind, target, caller.user, caller.channel, rules.approval_expiry, details
    )
    # The request row is written before the card exists, so no click can decide a request
    # whose row is not there yet to be completed.
    _record_decision(
        runtime,
        actor=caller.user,
        action=request_action(kind),
        result="running",
        params={"target": target, "approval": approval.id},
        request_id=approval.id,
    )
    card = cards.pending_message(
        approval.id,
        kind,
        target,
        caller.user,
        details,
        approval.expires_at,
        required=rules.approvals_required,
    )
    response = send_retrying(
        lambda: runtime.client.chat_postMessage(channel=rules.approvals_channel, **card),
        "approval card",
    )
    runtime.approvals.attach_message(approval.id, response["channel"], response["ts"])
    what = "build" if kind == "template_build" else "destroy"
    caller.reply(
        replies.info_message(
            f":inbox_tray: Your {what} request `{approval.id}` for *{target}* is waiting for an "
            f"approver in <#{rules.approvals_channel}>. You will hear back here."
        )
    )


def _record_decision(
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
            _record_decision(
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


def _kind_words(kind: str) -> str:
    return kind.replace("_", " ")


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


def _refresh_card(runtime: Runtime, approval: Approval) -> None:
    if approval.channel is None or approval.ts is None:
        return
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
    send_retrying(
        lambda: runtime.client.chat_update(channel=approval.channel, ts=approval.ts, **card),
        "approval card update",
    )


def _tell_requester(runtime: Runtime, approval: Approval) -> None:
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
        _record_decision(
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
    _record_decision(
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
    _refresh_card(runtime, approval)
    _tell_requester(runtime, approval)
    if approval.state == "approved":
        _run(runtime, approval)


def request_cluster(runtime: Runtime, approval: Approval) -> str | None:
    """The cluster a request is for: the card's ``Cluster`` line (stored with the approval),
    else its channel's route (a request from before clusters), else None (default)."""
    cluster = dict(approval.details).get(CLUSTER_DETAIL)
    return cluster or runtime.clusters.route(approval.origin_channel)


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
    channel = approval.origin_channel or runtime.rules.approvals_channel or approval.requester
    if approval.kind == "template_build":
        title = f"Building a {approval.target} template"
    else:
        title = f"Destroying template {approval.target}"
    # Outside the thread's code block, so the approver shows as a name, not a raw user id.
    note = f"Approval `{approval.id}` by {mention(approval.decided_by)}"
    if approval.kind == "template_build" and split_target(approval.target)[1]:
        build_copies_approved(runtime, approval, note)
        return
    progress = ProgressMessage(
        runtime.client,
        channel,
        title,
        requester=approval.requester,
        request_id=approval.id,
        book=ProgressBook(runtime.database),
    )
    try:
        progress.post()
    except Exception as exc:
        log.warning("could not post build progress: %s", type(exc).__name__)
    try:
        if approval.kind == "template_build":
            before = _latest(runtime.provisioner.list_templates(), approval.target)
            result = runtime.provisioner.build_template(
                TemplateBuildRequest(distribution=approval.target, request_id=approval.id),
                actor=approval.requester,
                via="slack",
                request_id=approval.id,
                approver=approval.decided_by,
                progress=progress,
            )
            replaced = (
                before if before is not None and before.vmid != result.template.vmid else None
            )
            progress.finish(
                progress_views.template_done_message(title, result.template, replaced),
                note=note,
            )
        else:
            runtime.provisioner.destroy_template(
                int(approval.target),
                actor=approval.requester,
                via="slack",
                request_id=approval.id,
                approver=approval.decided_by,
                progress=progress,
            )
            progress.finish(
                replies.info_message(
                    f":white_check_mark: Template {approval.target} is destroyed."
                ),
                note=note,
            )
    except Exception as exc:
        reason, step = describe_error(exc)
        progress.fail(step, reason)


def expire_due(runtime: Runtime) -> int:
    """Expire overdue requests: state ``expired`` (not ``denied``), card and requester updated."""
    count = 0
    for approval in runtime.approvals.due():
        outcome = runtime.approvals.decide(approval.id, "expired", None)
        if outcome is None or not outcome.changed:
            continue
        count += 1
        _record_decision(
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
            _refresh_card(runtime, outcome.approval)
            _tell_requester(runtime, outcome.approval)
        except Exception as exc:
            log.warning("could not update expired request %s: %s", approval.id, type(exc).__name__)
    complete_decided_requests(runtime)
    return count
