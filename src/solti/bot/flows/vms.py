"""VM flows: create (command or form), list, lifecycle verbs, remove with confirmation."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from solti.bot.blocks import progress as progress_views
from solti.bot.blocks import replies
from solti.bot.blocks.common import escape
from solti.bot.facade import call
from solti.bot.flows.base import Caller, as_sentence, describe_error
from solti.bot.flows.login import address_later, first_login
from solti.bot.progress import ProgressMessage
from solti.provisioning import InvalidRequest, NotFound, SoltiError, VmCreateRequest

__all__ = [
    "CreateInput",
    "FieldErrors",
    "create_vm",
    "list_vms",
    "owned_count",
    "plan_prefill",
    "prepare_create",
    "request_problems",
    "vm_action",
]

log = logging.getLogger("solti.bot.flows.vms")

CreateInput = Mapping[str, Any]


def owned_count(caller: Caller) -> int:
    vms = call(caller.runtime.provisioner.list_vms)
    return sum(1 for vm in vms if vm.owner == caller.user)


def _problems_of(exc: ValidationError) -> dict[str | None, str]:
    """Every field pydantic found wrong (the first message per field), in its order."""
    found: dict[str | None, str] = {}
    for error in exc.errors():
        loc = [str(x) for x in error.get("loc", ())]
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        field = loc[0] if loc else None
        if field is None and ":" in message:  # model validators name the field in the text
            field = message.split(":", 1)[0]
        found.setdefault(field, message)
    return found


class FieldErrors(InvalidRequest):
    """Several request fields are wrong at once: ``problems`` maps each to its message, so
    the form can show them all in one round trip; the message is the first of them."""

    def __init__(self, problems: dict[str | None, str]) -> None:
        field, message = next(iter(problems.items()))
        super().__init__(message, field=field)
        self.problems = problems


def _request_data(values: CreateInput, keys: list[str], request_id: str) -> dict[str, Any]:
    data = {k: v for k, v in values.items() if v not in (None, "", False)}
    data.pop("ssh_key", None)
    data["ssh_keys"] = keys
    data["request_id"] = request_id
    return data


def request_from(values: CreateInput, keys: list[str], request_id: str) -> VmCreateRequest:
    """Build the request; pydantic errors become FieldErrors naming every bad field."""
    try:
        return VmCreateRequest.model_validate(_request_data(values, keys, request_id))
    except ValidationError as exc:
        raise FieldErrors(_problems_of(exc)) from None


def request_problems(values: CreateInput, keys: list[str]) -> dict[str | None, str]:
    """Everything the request model finds wrong with ``values`` (pure: no Proxmox, no Slack).

    pydantic skips the network check while another field is wrong, so the fields found
    wrong are left out and the rest checked again, until nothing new turns up.
    """
    problems: dict[str | None, str] = {}
    checked = dict(values)
    for _ in range(len(values) + 1):
        try:
            request_from(checked, keys, "check")
            break
        except FieldErrors as exc:
            new = {f: m for f, m in exc.problems.items() if f not in problems}
            if not new:
                break
            problems.update(new)
            for field in new:
                base = (field or "").split("[", 1)[0]
                checked.pop(base, None)
                if base == "ssh_keys":
                    keys = []
                if base == "ip":
                    checked.pop("gw", None)
    return problems


def _keys_for(caller: Caller, given: str | None) -> list[str] | None:
    stored = caller.runtime.keys.get(caller.user)
    if given:
        return [given]
    if stored is not None:
        return [stored.key]
    return None


def prepare_create(caller: Caller, values: CreateInput) -> tuple[VmCreateRequest, Any]:
    """Every check before anything changes: who, key, quota, then provisioning's plan.

    Raises InvalidRequest/SoltiError with a message for the person; ``field`` says which
    form field it concerns (the modal shows it there).
    """
    runtime = caller.runtime
    allowed = runtime.rules.may_create(caller.user, caller.groups)
    if not allowed:
        raise _Refused(allowed.reason)
    keys = _keys_for(caller, values.get("ssh_key"))
    if keys is None:
        raise InvalidRequest(replies.NO_KEY_TEXT, field="ssh_key")
    if runtime.rules.max_vms_per_user is not None:
        quota = runtime.rules.check_quota(owned_count(caller))
        if not quota:
            raise _Refused(quota.reason)
    request = request_from(values, keys, caller.request_id)
    try:
        plan = call(runtime.provisioner.plan_vm, request, actor=caller.user, via="slack")
    except NotFound as exc:
        raise _template_not_found(caller, values.get("template"), exc) from None
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
        templates = call(caller.runtime.provisioner.list_templates)
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
    later. Whatever was typed is kept as typed.
    """
    data = dict(typed)
    data["template_vmid"] = plan.template.vmid
    if plan.disk_after is not None:
        data.setdefault("disk", str(plan.disk_after))
    if plan.full:
        data["full"] = True
    data["default_name"] = plan.name
    data["default_vmid"] = plan.vmid
    return data


def create_vm(caller: Caller, values: CreateInput, prefill: dict[str, Any]) -> None:
    """The whole create: checks, dry run or progress message, provisioning, final state."""
    runtime = caller.runtime
    try:
        request, plan = prepare_create(caller, values)
    except FieldErrors as exc:  # every bad option at once, each as a sentence
        caller.say_error(" ".join(as_sentence(m, f) for f, m in exc.problems.items()))
        return
    except SoltiError as exc:
        caller.say_error(describe_error(exc)[0])
        return
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    if values.get("dry_run"):
        left = (
            runtime.rules.quota_left(owned_count(caller))
            if runtime.rules.max_vms_per_user
            else None
        )
        reply = replies.plan_message(plan, plan_prefill(plan, prefill))
        if left is not None:
            reply["blocks"].append(replies.context(f"Quota: you can create {left} more VM(s)."))
        caller.reply(reply)
        return
    title = f"Creating {plan.name} (VMID {plan.vmid}) from {plan.template.name}"
    if caller.channel is None:
        caller.say_error(
            "I don't know which channel to report progress in; run the command in a channel."
        )
        return
    progress = ProgressMessage(runtime.client, caller.channel, title, requester=caller.user)
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
        result = call(
            runtime.provisioner.create_vm,
            request,
            actor=caller.user,
            via="slack",
            request_id=caller.request_id,
            progress=progress,
        )
    except Exception as exc:
        reason, step = describe_error(exc)
        progress.fail(step, reason)
        return
    vm = result.vm
    used_plan = result.plan or plan
    details = [
        f"request {caller.request_id}",
        f"template {used_plan.template.name} v{used_plan.template.version}",
    ]
    if result.duration_ms is not None:
        details.append(f"provisioning: {result.duration_ms} ms")
    if runtime.rules.max_vms_per_user is not None:
        details.append(f"quota left: {runtime.rules.quota_left(owned_count(caller))}")
    login, wait = first_login(caller, vm, used_plan)
    progress.finish(progress_views.vm_done_message(title, vm, used_plan, login), details)
    if wait:
        address_later(caller, progress, vm, used_plan, wait)


def list_vms(caller: Caller, mine: bool) -> None:
    runtime = caller.runtime
    vms = call(runtime.provisioner.list_vms)
    if mine:
        vms = [vm for vm in vms if vm.owner == caller.user]
    left = None
    if runtime.rules.max_vms_per_user is not None:
        left = runtime.rules.quota_left(sum(1 for vm in vms if vm.owner == caller.user))
    caller.reply(replies.vm_list_message(vms, mine, left))


def _find_vm(caller: Caller, vmid: int) -> Any | None:
    for vm in call(caller.runtime.provisioner.list_vms):
        if vm.vmid == vmid:
            return vm
    return None


OWNER_ONLY = ("stop", "shutdown", "remove")


def vm_action(caller: Caller, verb: str, vmid: int, *, confirmed: bool = False) -> None:
    """verify/start/stop/shutdown/remove; ``remove`` first shows a confirm button."""
    runtime = caller.runtime
    vm = _find_vm(caller, vmid)
    if vm is None:
        caller.say_error(f"There is no VM with VMID {vmid}. `/solti vm list` shows them.")
        return
    if verb in OWNER_ONLY:
        decision = runtime.rules.may_manage_vm(caller.user, caller.groups, vm.owner)
        if not decision:
            from solti.bot.facade import audit_record

            audit_record(
                runtime.audit,
                actor=caller.user,
                action=f"vm {verb}",
                vmid=vmid,
                name=vm.name,
                result="denied",
                error=decision.reason,
                request_id=caller.request_id,
            )
            caller.say_error(decision.reason)
            return
    if verb == "remove" and not confirmed:
        caller.reply(replies.remove_prompt_message(vm))
        return
    method = getattr(runtime.provisioner, f"{verb}_vm")
    try:
        call(method, vmid, actor=caller.user, via="slack", request_id=caller.request_id)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    done = {
        "verify": f"VM {vmid} ({vm.name}) checks out.",
        "start": f"VM {vmid} ({vm.name}) is started.",
        "stop": f"VM {vmid} ({vm.name}) is stopped.",
        "shutdown": f"VM {vmid} ({vm.name}) is shut down.",
        "remove": f"VM {vmid} ({vm.name}) is removed.",
    }[verb]
    caller.reply(replies.info_message(":white_check_mark: " + done))
