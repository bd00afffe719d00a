"""VM flows: create (command or form), list, lifecycle verbs, remove with confirmation."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.blocks import progress as progress_views
from bot.blocks import replies
from bot.facade import call
from bot.flows.base import Caller, describe_error
from bot.progress import ProgressMessage
from provisioning import InvalidRequest, SoltiError, VmCreateRequest

__all__ = ["CreateInput", "create_vm", "list_vms", "owned_count", "prepare_create", "vm_action"]

log = logging.getLogger("bot.flows.vms")

CreateInput = Mapping[str, Any]
_FIELD_NAMES = {"ssh_keys": "ssh_key", "template": "template", "ip": "ip", "gw": "gw"}


def owned_count(caller: Caller) -> int:
    vms = call(caller.runtime.provisioner.list_vms)
    return sum(1 for vm in vms if vm.owner == caller.user)


def _field_of(exc: ValidationError) -> tuple[str | None, str]:
    first = exc.errors()[0]
    loc = [str(x) for x in first.get("loc", ())]
    message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    field = loc[0] if loc else None
    if field is None and ":" in message:  # model validators name the field in the text
        field = message.split(":", 1)[0]
    return field, message


def request_from(values: CreateInput, keys: list[str], request_id: str) -> VmCreateRequest:
    """Build the request; pydantic errors become InvalidRequest naming the field."""
    data = {k: v for k, v in values.items() if v not in (None, "", False)}
    data.pop("ssh_key", None)
    data["ssh_keys"] = keys
    data["request_id"] = request_id
    try:
        return VmCreateRequest.model_validate(data)
    except ValidationError as exc:
        field, message = _field_of(exc)
        raise InvalidRequest(message, field=field) from None


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
    plan = call(runtime.provisioner.plan_vm, request, actor=caller.user, via="slack")
    return request, plan


class _Refused(SoltiError):
    """A policy refusal found by the bot itself (not by provisioning)."""


def _address_later(
    caller: Caller, progress: ProgressMessage, vm: Any, plan: Any, timeout: float
) -> None:
    """Wait (in its own thread) for the guest agent's address, then edit the final message.

    The VM is shown as ready at once; the address comes when the guest has booted, which
    takes a while or never happens (no qemu-guest-agent in the image). A thread of its own,
    not a pool worker: the wait is long and mostly asleep, and must not hold up other work.
    """
    provisioner = caller.runtime.provisioner
    title = progress.title

    def wait() -> None:
        try:
            found = call(provisioner.vm_address, vm.node, vm.vmid, timeout=timeout,
                         ipconfig=plan.ipconfig,
                         distribution=plan.template.distribution)  # fmt: skip
            login = progress_views.login_text(
                plan.user, vm.vmid, address=found.address, reason=found.reason
            )
        except Exception as exc:  # never a traceback in Slack; the VM itself is fine
            log.warning("address lookup of VM %s failed: %s", vm.vmid, type(exc).__name__)
            login = progress_views.login_text(
                plan.user, vm.vmid, reason="the guest agent could not be asked"
            )
        progress.edit(progress_views.vm_done_message(title, vm, plan, login))

    context = contextvars.copy_context()
    name = f"solti-address-{vm.vmid}"
    threading.Thread(target=context.run, args=(wait,), name=name, daemon=True).start()


def _address_wait(caller: Caller) -> float:
    """``defaults.address_wait_seconds`` of the bot's policy (120 s without one)."""
    defaults = getattr(caller.runtime.policy, "defaults", None)
    return float(getattr(defaults, "address_wait_seconds", 120))


def _first_login(caller: Caller, vm: Any, plan: Any) -> tuple[str, float]:
    """The "Log in" text of the ready message, and how long to wait for the agent after it
    (0: do not).

    A static address is known from the plan (no API call); a VM that is not running will
    not get one; ``defaults.address_wait_seconds: 0`` means nobody waits.
    """
    found = call(caller.runtime.provisioner.vm_address, vm.node, vm.vmid, timeout=0,
                 ipconfig=plan.ipconfig,
                 distribution=plan.template.distribution)  # fmt: skip
    if found.address:
        return progress_views.login_text(plan.user, vm.vmid, address=found.address), 0
    if found.outcome == "no-agent":
        return progress_views.login_text(plan.user, vm.vmid, reason=found.reason), 0
    if vm.status != "running":
        return progress_views.login_text(plan.user, vm.vmid), 0
    wait = _address_wait(caller)
    if wait <= 0:
        reason = "address lookup is off (defaults.address_wait_seconds: 0)"
        return progress_views.login_text(plan.user, vm.vmid, reason=reason), 0
    return progress_views.login_text(plan.user, vm.vmid, waiting=wait), wait


def create_vm(caller: Caller, values: CreateInput, prefill: dict[str, Any]) -> None:
    """The whole create: checks, dry run or progress message, provisioning, final state."""
    runtime = caller.runtime
    try:
        request, plan = prepare_create(caller, values)
    except SoltiError as exc:
        caller.say_error(describe_error(exc)[0], "vm" if isinstance(exc, InvalidRequest) else None)
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
        reply = replies.plan_message(plan, prefill)
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
    login, wait = _first_login(caller, vm, used_plan)
    progress.finish(progress_views.vm_done_message(title, vm, used_plan, login), details)
    if wait:
        _address_later(caller, progress, vm, used_plan, wait)


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
        caller.say_error(f"There is no VM with VMID {vmid}. `/solti vm list` shows them.", "vm")
        return
    if verb in OWNER_ONLY:
        decision = runtime.rules.may_manage_vm(caller.user, caller.groups, vm.owner)
        if not decision:
            from bot.facade import audit_record

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
