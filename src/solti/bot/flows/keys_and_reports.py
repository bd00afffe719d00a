"""Small flows: SSH keys, the audit view and the on-demand report."""

from __future__ import annotations

from solti.bot.blocks import replies
from solti.bot.flows.caller import Caller, as_sentence, describe_error
from solti.bot.reports import post_report
from solti.provisioning import InvalidRequest

__all__ = ["audit", "key_remove", "key_set", "key_show", "report_now"]


def key_set(caller: Caller, text: str) -> None:
    try:
        stored = caller.runtime.keys.set(caller.user, text)
    except InvalidRequest as exc:
        caller.say_error(as_sentence(exc.message, exc.field))
        return
    caller.reply(replies.key_message(stored.label, stored.fingerprint, stored.key_type))


def key_show(caller: Caller) -> None:
    stored = caller.runtime.keys.get(caller.user)
    if stored is None:
        caller.reply(replies.info_message(replies.NO_KEY_SHOW_TEXT))
        return
    caller.reply(replies.key_message(stored.label, stored.fingerprint, stored.key_type))


def key_remove(caller: Caller) -> None:
    removed = caller.runtime.keys.remove(caller.user)
    text = "Your SSH key is removed." if removed else "You had no SSH key registered."
    caller.reply(replies.info_message(text))


def audit(caller: Caller, user: str | None, vmid: int | None) -> None:
    try:
        records = caller.runtime.audit.query(user=user, vmid=vmid, limit=20)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
        return
    caller.reply(replies.audit_message(records))


def report_now(caller: Caller) -> None:
    if caller.channel is None:
        caller.say_error("Run `/solti report` in a channel.")
        return
    try:
        post_report(caller.runtime, caller.channel)
    except Exception as exc:
        caller.say_error(describe_error(exc)[0])
