"""VM create flows: from the command or the form, planned once, built with live progress.

The verbs on VMs that exist (list, quota, give, lifecycle, remove) are ``vm_verbs``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from solti.bot.approvals import Approval
from solti.bot.blocks import progress as progress_views
from solti.bot.blocks import replies
from solti.bot.blocks.elements import escape
from solti.bot.flows import create_gate
from solti.bot.flows.caller import Caller, as_sentence, channel_progress, describe_error
from solti.bot.flows.create_request import (
    CreateInput,
    FieldErrors,
    keyed_request,
    moved_from_shown,
    shown_choices,
)
from solti.bot.flows.login import address_later, first_login
from solti.bot.progress_message import ProgressMessage
from solti.provisioning import NotFound, SoltiError, VmCreateRequest, VmPlan

__all__ = [
    "build_vm",
    "create_from_slash",
    "create_prepared",
    "plan_prefill",
    "prepare_create",
]

log = logging.getLogger("solti.bot.flows.vms")


def prepare_create(
    caller: Caller, values: CreateInput, shown: Mapping[str, Any] | None = None
) -> tuple[VmCreateRequest, VmPlan]:
    """``_prepare_create``, and an audit record of every refusal or failure it meets, as
    the CLI's ``Operation.refused`` writes one for a plan that fails: a create refused in
    Slack before the clone is on the record with its reason (command and form alike)."""
    try:
        return _prepare_create(caller, values, shown)
    except Exception as exc:
        _record_create_refusal(caller, values, exc)
        raise


def _record_create_refusal(caller: Caller, values: CreateInput, exc: Exception) -> None:
    if isinstance(exc, FieldErrors):
        reason = " ".join(as_sentence(m, f) for f, m in exc.problems.items())
    else:
        reason = describe_error(exc)[0]
    vmid, name = values.get("vmid"), values.get("name")
    try:
        caller.runtime.audit.record(
            action="vm create",
            actor=caller.user,
            via="slack",
            result="denied" if isinstance(exc, _Refused) else "failed",
            error=reason,
            params={"template": str(values.get("template") or "")},
            request_id=caller.request_id,
            vmid=vmid if isinstance(vmid, int) else None,
            name=name if isinstance(name, str) else None,
        )
    except Exception:
        log.exception("could not write the audit record of a refused vm create")


def _prepare_create(
    caller: Caller, values: CreateInput, shown: Mapping[str, Any] | None = None
) -> tuple[VmCreateRequest, VmPlan]:
    """Every check before anything changes: who, key, then provisioning's plan and the quota.

    The plan is made once, here, and is the one built (``build_vm``): its one
    ``/cluster/resources`` snapshot also counts the caller's VMs for the quota. ``shown``
    is the prefill of a form opened from a dry run (see ``_shown_choices``).
    Raises InvalidRequest/SoltiError with a message for the person; ``field`` says which
    form field it concerns (the modal shows it there).
    """
    runtime = caller.runtime
    allowed = caller.authorize("vm create")
    if not allowed:
        raise _Refused(allowed.reason)
    request = keyed_request(caller, values)
    try:
        plan = runtime.provisioner.plan_vm(
            request,
            actor=caller.user,
            lease_exempt=create_gate.lease_exempt(caller, request.lease),
            **shown_choices(values, shown),
        )
    except NotFound as exc:
        raise _template_not_found(caller, values.get("template"), exc) from None
    # Limits and quotas (VMs, cores, memory, disk) were checked by the plan itself, with the
    # creates still in flight; the build checks the quotas again atomically.
    return request, plan


def _template_not_found(caller: Caller, selector: Any, exc: NotFound) -> NotFound:
    """A distribution or name that matched no template, said as people think of it.

    Provisioning speaks of template names ("no template named 'arch'"); someone who typed
    `/solti vm create arch` asked for a distribution, so the answer says which ones can be
    cloned now and how to get a template for the others. VMIDs and other errors pass as is.
    """
    text = str(selector or "").strip()
    if not text or text.isdigit() or not exc.message.startswith("template: "):
        return exc
    try:
        catalog = list(caller.runtime.policy.catalog().names)
        templates = caller.runtime.provisioner.list_templates()
    except Exception:  # the original answer is still true, only less helpful
        log.warning("could not list distributions for %r", text[:40])
        return exc
    if any(t.name == text for t in templates):
        return exc
    built = sorted({t.distribution for t in templates if t.distribution})
    can = (
        f"You can clone {', '.join(f'`{d}`' for d in built)}."
        if built
        else "No template is built yet, so nothing can be cloned."
    )
    shown = escape(text)
    if text in catalog:
        return NotFound(
            f"There is no {shown} template yet; ask for one with "
            f"`/solti template build {shown}` (an approver decides). {can}"
        )
    others = [d for d in catalog if d not in built]
    tail = (
        " The other distributions need a template first, `/solti template build DISTRO` "
        f"(an approver decides): {', '.join(others)}."
        if others
        else ""
    )
    head = f"Unknown distribution '{shown}' (and no template has that name)."
    return NotFound(f"{head} {can}{tail}")


class _Refused(SoltiError):
    """A policy refusal found by the bot itself (not by provisioning)."""


def plan_prefill(plan: Any, typed: dict[str, Any]) -> dict[str, Any]:
    """What "Customize…" under a dry run opens the form with: the dry run's own choices.

    The template is the build the plan resolved (a distribution or name typed in the
    command becomes the VMID the form's list is keyed by); disk and clone mode as shown.
    The name and VMID the plan picked become the fields' stated defaults, not their values:
    left empty they follow the template picked in the form and are free when it is sent
    later; the node is kept too while it is still eligible. Whatever was typed is kept as
    typed.
    """
    data = dict(typed)
    data["template_vmid"] = plan.template.vmid
    if plan.disk_after is not None:
        data.setdefault("disk", str(plan.disk_after))
    if plan.full:
        data["full"] = True
    data["default_name"] = plan.name
    data["default_vmid"] = plan.vmid
    data["default_node"] = plan.node
    return data


def _prepared_or_said(caller: Caller, prepare: Any) -> tuple[VmCreateRequest, VmPlan] | None:
    """Run the checks and the plan; a refusal or a bad option is said to the person."""
    try:
        return prepare()  # type: ignore[no-any-return]
    except FieldErrors as exc:  # every bad option at once, each as a sentence
        caller.say_error(" ".join(as_sentence(m, f) for f, m in exc.problems.items()))
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
    return None


def create_from_slash(caller: Caller, values: CreateInput, prefill: dict[str, Any]) -> None:
    """The command's create: checks and plan, then the dry run's answer or the build."""
    runtime = caller.runtime
    prepared = _prepared_or_said(caller, lambda: prepare_create(caller, values))
    if prepared is None:
        return
    request, plan = prepared
    if values.get("dry_run"):
        left = (
            runtime.rules.quota_left(plan.owned_by_actor or 0)
            if runtime.rules.max_vms_per_user
            else None
        )
        reply = replies.plan_message(plan, plan_prefill(plan, prefill))
        if left is not None:
            reply["blocks"].append(replies.context(f"Quota: you can create {left} more VM(s)."))
        reasons = create_gate.create_reasons(caller, request, plan)
        if reasons:
            reply["blocks"].append(replies.context(create_gate.would_need_approval(reasons)))
        caller.reply(reply)
        return
    _build_or_ask(caller, request, plan)


def create_prepared(
    caller: Caller,
    prepared: Future[tuple[VmCreateRequest, VmPlan]],
    shown_node: str | None = None,
) -> None:
    """The form's create: the plan its submit made (still running when Proxmox was slow);
    ``shown_node``: the node of the dry run the form was opened from, carried to the plan
    (``shown_choices``); the person is told when the VM goes elsewhere."""
    planned = _prepared_or_said(caller, prepared.result)
    if planned is None:
        return
    moved = moved_from_shown(planned[1], shown_node)
    if moved is not None:
        caller.reply(replies.info_message(f":information_source: {moved}"))
    _build_or_ask(caller, *planned)


def _build_or_ask(caller: Caller, request: VmCreateRequest, plan: VmPlan) -> None:
    """Build now, or, over an ``approvals.vm_create`` threshold, post the approval card."""
    try:
        reasons = create_gate.create_reasons(caller, request, plan)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    if reasons:
        create_gate.ask_for_create(caller, request, plan, reasons)
        return
    build_vm(caller, request, plan)


def build_vm(
    caller: Caller,
    request: VmCreateRequest,
    plan: VmPlan,
    *,
    lease_exempt: bool | None = None,
    approval: Approval | None = None,
) -> None:
    """Progress message, provisioning of exactly ``plan``, the final state (``approval``:
    the request that let it run, named in the final details)."""
    runtime = caller.runtime
    title = _create_title(plan, plan.vmid)
    progress = channel_progress(caller, title)
    if progress is None:
        return
    try:
        progress.post()
    except Exception as exc:
        if caller.channel.startswith("D"):  # a DM between people: the app cannot join it
            caller.say_error(
                "I can't post progress in a direct message between people; run the command "
                "in a channel, or in your DM with me."
            )
        else:
            caller.say_error(
                f"I could not post in this channel ({type(exc).__name__}); "
                "invite me with `/invite @solti`."
            )
        return
    try:
        result = runtime.provisioner.create_vm(
            request,
            plan=plan,
            actor=caller.user,
            via="slack",
            request_id=caller.request_id,
            progress=_retitled(progress, plan),
            lease_exempt=(
                create_gate.lease_exempt(caller, request.lease)
                if lease_exempt is None
                else lease_exempt
            ),
            approver=_approvers(runtime, approval),
        )
    except Exception as exc:
        reason, step = describe_error(exc)
        progress.fail(step, reason)
        return
    vm = result.vm
    title = _create_title(plan, vm.vmid)
    used_plan = result.plan or plan
    details = [
        f"request {caller.request_id}",
        f"template {used_plan.template.name} v{used_plan.template.version}",
    ]
    if approval is not None:
        voters = runtime.approvals.voters(approval.id) or (approval.decided_by,)
        details.append(f"approval {approval.id} by {', '.join(v for v in voters if v)}")
    if result.duration_ms is not None:
        details.append(f"provisioning: {result.duration_ms} ms")
    if runtime.rules.max_vms_per_user is not None:
        # The plan's count, plus this VM unless an earlier run of the request made it.
        owned = (plan.owned_by_actor or 0) + (0 if result.reused else 1)
        details.append(f"quota left: {runtime.rules.quota_left(owned)}")
    login, wait = first_login(caller, vm, used_plan)
    progress.finish(progress_views.vm_done_message(title, vm, used_plan, login), details)
    if wait:
        address_later(caller, progress, vm, used_plan, wait)


def _approvers(runtime: Any, approval: Approval | None) -> str | None:
    """Who approved (``a, b`` with four eyes), for the create's own audit record."""
    if approval is None:
        return None
    voters = runtime.approvals.voters(approval.id) or (approval.decided_by,)
    return ", ".join(v for v in voters if v) or None


def _create_title(plan: VmPlan, vmid: int) -> str:
    return f"Creating {plan.name} (VMID {vmid}) from {plan.template.name}"


def _retitled(progress: ProgressMessage, plan: VmPlan) -> Any:
    """The progress callback; when the clone lands on another VMID than the plan's (another
    process took that id first, and the create took the next free one), the message's title
    names the VM being made from then on, not the planned id."""

    def update(step: Any) -> None:
        detail = str(step.detail or "")  # the clone step's detail: "VM <vmid> from <template>"
        if step.step == "clone" and detail.startswith("VM "):
            vmid = detail.split()[1]
            if vmid.isdigit() and int(vmid) != plan.vmid:
                progress.title = _create_title(plan, int(vmid))
        progress(step)

    return update
