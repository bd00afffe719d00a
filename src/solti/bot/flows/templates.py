"""Template flows: list, ask for a build or destroy, and run it once approved.

Deciding a request (clicks, expiry) is ``approval_lifecycle``; its records ``approval_records``.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.approvals import Approval, request_action
from solti.bot.blocks import progress as progress_views
from solti.bot.blocks import replies
from solti.bot.blocks.elements import mention
from solti.bot.cluster_context import CLUSTER_DETAIL
from solti.bot.flows.approval_records import post_card, record_decision
from solti.bot.flows.caller import Caller, describe_error
from solti.bot.flows.template_copies_flow import build_copies_approved, copies_text, split_target
from solti.bot.progress_message import ProgressMessage
from solti.bot.recovery_book import ProgressBook
from solti.bot.runtime import Runtime
from solti.provisioning import TemplateBuildRequest

__all__ = ["list_templates", "request_approval", "run_approved"]

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
    record_decision(
        runtime,
        actor=caller.user,
        action=request_action(kind),
        result="running",
        params={"target": target, "approval": approval.id},
        request_id=approval.id,
    )
    post_card(runtime, approval, details)
    what = "build" if kind == "template_build" else "destroy"
    caller.reply(
        replies.info_message(
            f":inbox_tray: Your {what} request `{approval.id}` for *{target}* is waiting for an "
            f"approver in <#{rules.approvals_channel}>. You will hear back here."
        )
    )


def run_approved(runtime: Runtime, approval: Approval) -> None:
    """The approved build or destroy, with its progress message (on the request's cluster:
    ``approval_lifecycle`` enters it)."""
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
