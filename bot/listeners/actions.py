"""Button clicks: Customize… (open the form), Approve/Deny, and the confirmed Remove."""

from __future__ import annotations

from typing import Any

from bot.blocks.approval import APPROVE_ACTION, DENY_ACTION
from bot.blocks.replies import OPEN_MODAL_ACTION, REMOVE_ACTION
from bot.flows import templates, vms
from bot.listeners.commands import open_create_modal, prefill_from_value
from bot.listeners.common import caller_from, ephemeral_via_respond, guarded

__all__ = ["register"]


def _ack(ack: Any) -> None:
    ack()


def _customize(body: dict[str, Any], action: dict[str, Any], context: Any, respond: Any) -> None:
    caller = caller_from(context, ephemeral_via_respond(respond), body.get("trigger_id"))
    value = prefill_from_value(action.get("value"))
    guarded(caller, lambda: open_create_modal(caller, body["trigger_id"], value))


def _decide(approve: bool):  # type: ignore[no-untyped-def]
    def work(action: dict[str, Any], context: Any, respond: Any) -> None:
        caller = caller_from(context, ephemeral_via_respond(respond))
        guarded(caller, lambda: templates.decide(caller, str(action.get("value") or ""), approve))

    return work


def _remove(action: dict[str, Any], context: Any, respond: Any) -> None:
    value = str(action.get("value") or "")
    caller = caller_from(context, ephemeral_via_respond(respond, replace=True))
    if not value.isdigit():
        caller.say_error("That button does not name a VM.")
        return
    guarded(caller, lambda: vms.vm_action(caller, "remove", int(value), confirmed=True))


def register(app: Any) -> None:
    app.action(OPEN_MODAL_ACTION)(ack=_ack, lazy=[_customize])
    app.action(APPROVE_ACTION)(ack=_ack, lazy=[_decide(True)])
    app.action(DENY_ACTION)(ack=_ack, lazy=[_decide(False)])
    app.action(REMOVE_ACTION)(ack=_ack, lazy=[_remove])
