"""Button clicks: Customize… (open the form), Approve/Deny, and the confirmed Remove.

Each click is acked on the request thread at once and its work handed to the background
pool, counted in ``solti_commands_total`` under the verb named here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from solti.bot.blocks.approval import APPROVE_ACTION, DENY_ACTION
from solti.bot.blocks.home_view import SNAPSHOTS_ACTION, START_ACTION, STOP_ACTION
from solti.bot.blocks.lease_blocks import EXTEND_ACTION
from solti.bot.blocks.rebuild_blocks import DISMISS_ACTION, REBUILD_ACTION
from solti.bot.blocks.replies import OPEN_MODAL_ACTION, REMOVE_ACTION
from solti.bot.blocks.snapshot_blocks import (
    DELETE_SNAPSHOT_ACTION,
    ROLLBACK_SNAPSHOT_ACTION,
    ROLLBACK_STOPPED_ACTION,
    SNAPSHOT_ROLLBACK_ASK_ACTION,
    SNAPSHOT_TAKE_ACTION,
    parse_button_value,
)
from solti.bot.cluster_context import split_button_value
from solti.bot.flows import approval_lifecycle, leases, rebuild, snapshot_flow, vm_verbs
from solti.bot.flows.caller import Caller
from solti.bot.grammar.snapshot_grammar import SnapshotCreate
from solti.bot.home import publish_home
from solti.bot.listeners.dispatch import (
    caller_from,
    ephemeral_via_api,
    ephemeral_via_respond,
    later,
    runtime_in,
)
from solti.bot.listeners.slash import open_create_modal, prefill_from_value

__all__ = ["ACTION_VERBS", "register"]

# action_id -> the verb counted and logged for a click.
ACTION_VERBS = {
    OPEN_MODAL_ACTION: "form open",
    APPROVE_ACTION: "approval approve",
    DENY_ACTION: "approval deny",
    REMOVE_ACTION: "vm remove",
    EXTEND_ACTION: "vm extend",
    START_ACTION: "vm start",
    STOP_ACTION: "vm stop",
    REBUILD_ACTION: "vm rebuild",
    DISMISS_ACTION: "notice dismiss",
    ROLLBACK_SNAPSHOT_ACTION: "snapshot rollback",
    ROLLBACK_STOPPED_ACTION: "snapshot rollback",
    DELETE_SNAPSHOT_ACTION: "snapshot delete",
    SNAPSHOTS_ACTION: "snapshot list",
    SNAPSHOT_TAKE_ACTION: "snapshot create",
    SNAPSHOT_ROLLBACK_ASK_ACTION: "snapshot rollback",
}

# Clicks whose work is a few milliseconds (opening the form: its trigger_id lives 3 s).
QUICK_ACTIONS = frozenset({"form open"})

# Home clicks that change nothing the Home tab shows: answered without drawing it again.
UNCHANGED_HOME = frozenset({SNAPSHOTS_ACTION, SNAPSHOT_ROLLBACK_ASK_ACTION})

Work = Callable[[Caller, dict[str, Any], dict[str, Any]], None]


def _no_work(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    """The form's button: its work is ``open_create_modal``, started in the listener."""


def _decide(approve: bool) -> Work:
    def work(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
        approval_lifecycle.decide(caller, str(action.get("value") or ""), approve)

    return work


def _remove(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    value = str(action.get("value") or "")
    if not value.isdigit():
        caller.say_error("That button does not name a VM.")
        return
    vm_verbs.vm_action(caller, "remove", int(value), confirmed=True)


def _extend(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    value = str(action.get("value") or "")
    if not value.isdigit():
        caller.say_error("That button does not name a VM.")
        return
    leases.extend(caller, int(value), None)


def _rebuild(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    """[Rebuild] in a rebuild prompt or an outdated-template notice (confirmed in Slack)."""
    try:
        value = json.loads(str(action.get("value") or ""))
        vmid, template = int(value["vmid"]), value.get("template")
    except (ValueError, TypeError, KeyError):
        caller.say_error("That button does not name a VM.")
        return
    rebuild.rebuild(caller, vmid, None if template is None else str(template))


def _dismiss(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    value = str(action.get("value") or "")
    if not value.isdigit():
        caller.say_error("That button does not name a template.")
        return
    rebuild.dismiss(caller, int(value))


def _power(verb: str) -> Work:
    """[Start]/[Stop] on the Home tab: the same checks as `/solti vm start|stop`."""

    def work(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
        value = str(action.get("value") or "")
        if not value.isdigit():
            caller.say_error("That button does not name a VM.")
            return
        vm_verbs.vm_action(caller, verb, int(value))

    return work


def _vmid_of(caller: Caller, action: dict[str, Any]) -> int | None:
    value = str(action.get("value") or "")
    if not value.isdigit():
        caller.say_error("That button does not name a VM.")
        return None
    return int(value)


def _snapshot_list(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    """[Snapshots] on App Home: what `/solti snapshot list VMID` shows."""
    vmid = _vmid_of(caller, action)
    if vmid is not None:
        snapshot_flow.list_snapshots(caller, vmid)


def _snapshot_take(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    """[Take a snapshot] under a list: `/solti snapshot create VMID` (the default name)."""
    vmid = _vmid_of(caller, action)
    if vmid is not None:
        snapshot_flow.create(caller, SnapshotCreate(vmid))


def _snapshot_rollback_ask(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
    """[Roll back to NAME…] under a list: the rollback prompt, as the command posts it."""
    target = parse_button_value(str(action.get("value") or ""))
    if target is None:
        caller.say_error("That button does not name a VM snapshot.")
        return
    snapshot_flow.rollback(caller, *target)


def _snapshot_confirmed(verb: str, *, start: bool = True) -> Work:
    """[Roll back]/[Delete] after Slack's confirm dialog: the flow authorizes again;
    ``start=False``: [Roll back, leave stopped]."""

    def work(caller: Caller, body: dict[str, Any], action: dict[str, Any]) -> None:
        target = parse_button_value(str(action.get("value") or ""))
        if target is None:
            caller.say_error("That button does not name a VM snapshot.")
            return
        vmid, name = target
        if verb == "rollback":
            snapshot_flow.rollback(caller, vmid, name, confirmed=True, start=start)
        else:
            snapshot_flow.delete(caller, vmid, name, confirmed=True)

    return work


def _clicked(action_id: str, work: Work, replace: bool = False) -> Callable[..., None]:
    verb = ACTION_VERBS[action_id]

    def listener(
        ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, respond: Any
    ) -> None:
        ack()
        # A click inside a modal or App Home comes without a response_url (Bolt's respond
        # raises there): the answer goes to the person's DM with the app instead.
        reply = (
            ephemeral_via_respond(respond, replace=replace)
            if body.get("response_url")
            else ephemeral_via_api(runtime_in(context), None, context["requester"])
        )
        # A VM's button names its cluster (`500@lab`) when several are configured.
        value, cluster = split_button_value(str(action.get("value") or ""))
        if cluster is not None:
            action = {**action, "value": value}
            if cluster not in runtime_in(context).clusters.names:
                reply({"text": f"That button is for cluster `{cluster}`, which is no longer "
                       "configured; nothing was done."})  # fmt: skip
                return
        caller = caller_from(context, reply, body.get("trigger_id"), cluster)
        if action_id == OPEN_MODAL_ACTION:  # opened beside the ack: the trigger lives 3 s
            prefill = prefill_from_value(action.get("value"))
            open_create_modal(caller, body.get("trigger_id"), prefill, verb)
            return
        on_home = (body.get("view") or {}).get("type") == "home"

        def run() -> None:
            work(caller, body, action)
            if on_home and action_id not in UNCHANGED_HOME:  # draw Home again with the change
                publish_home(caller.runtime, caller.user)

        later(caller, verb, run, quick=verb in QUICK_ACTIONS)

    return listener


def register(app: Any) -> None:
    app.action(OPEN_MODAL_ACTION)(_clicked(OPEN_MODAL_ACTION, _no_work))
    app.action(APPROVE_ACTION)(_clicked(APPROVE_ACTION, _decide(True)))
    app.action(DENY_ACTION)(_clicked(DENY_ACTION, _decide(False)))
    app.action(REMOVE_ACTION)(_clicked(REMOVE_ACTION, _remove, replace=True))
    app.action(EXTEND_ACTION)(_clicked(EXTEND_ACTION, _extend))
    app.action(START_ACTION)(_clicked(START_ACTION, _power("start")))
    app.action(STOP_ACTION)(_clicked(STOP_ACTION, _power("stop")))
    app.action(REBUILD_ACTION)(_clicked(REBUILD_ACTION, _rebuild))
    app.action(DISMISS_ACTION)(_clicked(DISMISS_ACTION, _dismiss, replace=True))
    app.action(ROLLBACK_SNAPSHOT_ACTION)(
        _clicked(ROLLBACK_SNAPSHOT_ACTION, _snapshot_confirmed("rollback"), replace=True)
    )
    app.action(ROLLBACK_STOPPED_ACTION)(
        _clicked(
            ROLLBACK_STOPPED_ACTION, _snapshot_confirmed("rollback", start=False), replace=True
        )
    )
    app.action(DELETE_SNAPSHOT_ACTION)(
        _clicked(DELETE_SNAPSHOT_ACTION, _snapshot_confirmed("delete"), replace=True)
    )
    app.action(SNAPSHOTS_ACTION)(_clicked(SNAPSHOTS_ACTION, _snapshot_list))
    app.action(SNAPSHOT_TAKE_ACTION)(_clicked(SNAPSHOT_TAKE_ACTION, _snapshot_take))
    app.action(SNAPSHOT_ROLLBACK_ASK_ACTION)(
        _clicked(SNAPSHOT_ROLLBACK_ASK_ACTION, _snapshot_rollback_ask)
    )
