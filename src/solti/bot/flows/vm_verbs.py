"""Flows on VMs that exist: list, quota, give, verify/start/stop/shutdown/remove.

Each asks ``Caller.authorize`` (the channel; the owner or an admin where the VM changes) and
records a refusal in the audit log.
"""

from __future__ import annotations

from typing import Any

from solti.bot.blocks import replies
from solti.bot.blocks.fleet_blocks import lease_note
from solti.bot.cluster_context import named_cluster
from solti.bot.every_cluster import on_every_cluster, unanswered_text
from solti.bot.flows.caller import Caller, describe_error
from solti.provisioning.clusters import split

__all__ = ["give", "list_vms", "quota", "vm_action"]


def list_vms(caller: Caller, mine: bool, page: int = 1, typed: str | None = None) -> None:
    """One page of the VM list (``--page N``), only the caller's with ``mine``.

    Which clusters (``Clusters.span``): ``typed`` (``--cluster NAME``, or ``all``), else the
    channel's route, else every cluster: a channel routed nowhere lists them all, as
    `solti vm list` without ``--cluster`` does (a list only reads, and shows what is where).
    """
    runtime = caller.runtime
    allowed = caller.authorize("vm list")
    if not allowed:
        caller.say_error(allowed.reason)
        return
    names = runtime.clusters.span(typed, caller.channel)
    if len(names) > 1:
        _list_on_clusters(caller, mine, page, names)
        return
    vms = runtime.provisioner.list_vms()
    if mine:
        vms = [vm for vm in vms if vm.owner == caller.user]
    left = None
    if runtime.rules.max_vms_per_user is not None:
        left = runtime.rules.quota_left(sum(1 for vm in vms if vm.owner == caller.user))
    now = runtime.clock()
    caller.reply(
        replies.vm_list_message(
            vms, mine, left, page, lease_of=lambda vm: lease_note(vm, now), cluster=named_cluster()
        )
    )


def _list_on_clusters(caller: Caller, mine: bool, page: int, names: list[str]) -> None:
    """Every cluster of ``names`` at once, grouped by cluster; a silent one named in a line."""
    runtime = caller.runtime
    answers = on_every_cluster(runtime, lambda: runtime.provisioner.list_vms(), names)
    answered, unanswered = split(answers)
    if not answered:  # nothing to list: the reply is the reasons
        caller.say_error(" ".join(unanswered_text(a) for a in unanswered))
        return
    groups = [
        (a.cluster, [vm for vm in a.value if vm.owner == caller.user] if mine else a.value)
        for a in answered
    ]
    left = None
    if runtime.rules.max_vms_per_user is not None:
        left = {
            a.cluster: runtime.rules.quota_left(sum(1 for vm in a.value if vm.owner == caller.user))
            for a in answered
        }
    now = runtime.clock()
    down = [unanswered_text(a) for a in unanswered]
    lease_of = lambda vm: lease_note(vm, now)  # noqa: E731
    caller.reply(replies.vm_lists_message(groups, down, mine, left, page, lease_of=lease_of))


def quota(caller: Caller, user: str | None) -> None:
    """`/solti quota [@user]`: the person's VMs, cores, memory and disk against the quotas."""
    whose = user or caller.user
    try:
        report = caller.runtime.provisioner.quota(whose)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(replies.quota_message(report))


def give(caller: Caller, vmid: int, to: str) -> None:
    """`/solti vm give VMID @user`: the owner or an admin moves the VM (audited)."""
    runtime = caller.runtime
    try:
        owner = runtime.provisioner.owner_of(vmid)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    decision = caller.authorize("vm give", owner=owner)
    if not decision:
        _record_refusal(caller, "give", _Named(vmid), decision.reason)
        caller.say_error(decision.reason)
        return
    try:
        runtime.provisioner.give_vm(
            vmid, to, actor=caller.user, via="slack", request_id=caller.request_id
        )
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(replies.info_message(f":handshake: VM {vmid} now belongs to <@{to}>."))


class _Named:
    """A VM known only by its VMID (for the audit record of a refusal)."""

    def __init__(self, vmid: int) -> None:
        self.vmid, self.name = vmid, None


def _find_vm(caller: Caller, vmid: int) -> Any | None:
    for vm in caller.runtime.provisioner.list_vms():
        if vm.vmid == vmid:
            return vm
    return None


def vm_action(caller: Caller, verb: str, vmid: int, *, confirmed: bool = False) -> None:
    """verify/start/stop/shutdown/remove; ``remove`` first shows a confirm button.

    Every verb is authorized (``Caller.authorize``): the channel for all, the owner or an
    admin for those that change the VM (``start`` included).
    """
    vm = _find_vm(caller, vmid)
    if vm is None:
        caller.say_error(f"There is no VM with VMID {vmid}. `/solti vm list` shows them.")
        return
    decision = caller.authorize(f"vm {verb}", owner=vm.owner)
    if not decision:
        _record_refusal(caller, verb, vm, decision.reason)
        caller.say_error(decision.reason)
        return
    if verb == "remove" and not confirmed:
        caller.reply(replies.remove_prompt_message(vm))
        return
    try:
        _run_verb(caller, verb, vmid)
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


def _record_refusal(caller: Caller, verb: str, vm: Any, reason: str) -> None:
    """The audit record of a refused verb; a failing audit log must not hide the refusal."""
    caller.record_denied(f"vm {verb}", reason, vmid=vm.vmid, name=vm.name)


def _run_verb(caller: Caller, verb: str, vmid: int) -> None:
    """The provisioning verb, called by its name so "go to definition" finds it."""
    provisioner = caller.runtime.provisioner
    user, request_id = caller.user, caller.request_id
    match verb:
        case "verify":  # reads only: no audit record, no request id
            provisioner.verify_vm(vmid)
        case "start":
            provisioner.start_vm(vmid, actor=user, via="slack", request_id=request_id)
        case "stop":
            provisioner.stop_vm(vmid, actor=user, via="slack", request_id=request_id)
        case "shutdown":
            provisioner.shutdown_vm(vmid, actor=user, via="slack", request_id=request_id)
        case "remove":
            provisioner.remove_vm(vmid, actor=user, via="slack", request_id=request_id)
        case _:
            raise ValueError(f"no VM verb {verb!r}")
