"""A create over an ``approvals.vm_create`` threshold waits for an approver instead of running.

The create flows (``vms``) ask ``create_reasons`` after the plan: an empty list lets the
create run at once; otherwise ``ask_for_create`` posts the approval card and stores the
request and the plan with the approval row, so the create that runs after the approval
(``approved_create``) builds exactly what the person and the approvers were shown, after a
restart too.
"""

from __future__ import annotations

import logging
from typing import Any

from solti.bot.approvals import Approval
from solti.bot.blocks import replies
from solti.bot.blocks.elements import escape, size_text
from solti.bot.cluster_context import CLUSTER_DETAIL
from solti.bot.flows.approval_records import post_card
from solti.bot.flows.caller import NO_CHANNEL_TEXT, Caller
from solti.provisioning import VmCreateRequest, VmPlan

__all__ = [
    "KIND",
    "ask_for_create",
    "create_reasons",
    "lease_exempt",
    "request_and_plan",
    "would_need_approval",
]

log = logging.getLogger("solti.bot.flows.create_gate")

KIND = "vm_create"


def lease_exempt(caller: Caller, lease: str | None) -> bool | None:
    """Whether the caller may create with ``--lease none``: in ``leases.exempt`` by user id or
    through one of its usergroups (resolved with ``usergroups.users.list``, as admins are).

    Asked only for ``--lease none`` (None otherwise: no Slack call for everyday creates)."""
    if str(lease or "").strip().lower() != "none":
        return None
    return caller.runtime.rules.is_lease_exempt(caller.user, caller.groups)


def create_reasons(caller: Caller, request: VmCreateRequest, plan: VmPlan) -> list[str]:
    """Why this create waits for an approver (``approvals.vm_create``); empty: it does not."""
    return caller.runtime.provisioner.create_approval_reasons(  # type: ignore[no-any-return]
        plan,
        actor=caller.user,
        lease=request.lease,
        lease_exempt=lease_exempt(caller, request.lease),
    )


def would_need_approval(reasons: list[str]) -> str:
    """The dry run's line: the same words the CLI prints."""
    return f":raised_hand: Would need approval ({'; '.join(reasons)})."


def _details(request: VmCreateRequest, plan: VmPlan, reasons: list[str]) -> list[tuple[str, str]]:
    """What the approvers decide on: the VM as planned, and the rules it is over."""
    disk = size_text(plan.disk_after or plan.disk_before)
    return [
        ("VM", f"{plan.name} (VMID {plan.vmid}) on {plan.node}"),
        ("Template", f"{plan.template.name} (VMID {plan.template.vmid})"),
        ("Size", f"{plan.cores or '?'} cores, {plan.memory or '?'} MiB, disk {disk}"),
        ("Clone", "full" if plan.full else "linked"),
        ("Lease", request.lease or "the default (leases.default)"),
        ("Why it needs approval", "; ".join(reasons)),
    ]


def ask_for_create(
    caller: Caller, request: VmCreateRequest, plan: VmPlan, reasons: list[str]
) -> Approval | None:
    """Post the approval card for this create and tell the person it waits; None: refused."""
    runtime = caller.runtime
    rules = runtime.rules
    why = "; ".join(reasons)
    if not rules.approvals_channel:
        caller.say_error(
            f"This create needs approval ({why}), but no approvals channel is configured "
            "(policy `approvals_channel`). Ask an admin to set it, or ask for a smaller VM."
        )
        return None
    if caller.channel is None:
        caller.say_error(NO_CHANNEL_TEXT)
        return None
    payload: dict[str, Any] = {
        "request": request.model_dump(mode="json"),
        "plan": plan.model_dump(mode="json"),
        "reasons": reasons,
        "lease_exempt": lease_exempt(caller, request.lease),
    }
    details = _details(request, plan, reasons)
    if runtime.clusters.many:  # the approver sees it, and the approved create runs there
        details = [*details, (CLUSTER_DETAIL, caller.cluster)]
    approval = runtime.approvals.create(
        KIND, plan.name, caller.user, caller.channel, rules.approval_expiry, details, payload
    )
    # The request row exists before the card, so no click can decide an unrecorded request.
    try:
        runtime.audit.record(
            action="vm create request",
            actor=caller.user,
            via="slack",
            result="running",
            params={
                "template": str(request.template or ""),
                "approval": approval.id,
                "reasons": reasons,
            },
            request_id=approval.id,
            vmid=plan.vmid,
            name=plan.name,
        )
    except Exception:
        log.exception("could not write the audit record of create request %s", approval.id)
    post_card(runtime, approval, details)
    caller.reply(
        replies.info_message(
            f":inbox_tray: Your create of *{escape(plan.name)}* needs approval ({escape(why)}). "
            f"Request `{approval.id}` is waiting for an approver in "
            f"<#{rules.approvals_channel}>; once approved, its progress shows here."
        )
    )
    return approval


def request_and_plan(approval: Approval) -> tuple[VmCreateRequest, VmPlan]:
    """The request and the plan stored with a create's approval, as they were shown."""
    payload = approval.payload or {}
    if "request" not in payload or "plan" not in payload:
        raise ValueError(f"request {approval.id} holds no create to run")
    return (
        VmCreateRequest.model_validate(payload["request"]),
        VmPlan.model_validate(payload["plan"]),
    )
