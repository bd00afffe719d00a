"""The caller of a flow and how errors become sentences for people."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from solti.bot.authorization import Actor, authorize
from solti.bot.blocks.replies import error_message
from solti.bot.policy import Decision
from solti.bot.progress_message import ProgressMessage
from solti.bot.recovery_book import ProgressBook
from solti.bot.runtime import Runtime, named_cluster
from solti.provisioning import (
    Conflict,
    InvalidRequest,
    NotFound,
    PolicyDenied,
    ProxmoxError,
    RangeExhausted,
    SoltiError,
    TaskTimeout,
    Unreachable,
)

__all__ = [
    "FIELD_WORDS",
    "NO_CHANNEL_TEXT",
    "Caller",
    "as_sentence",
    "channel_progress",
    "describe_error",
]

log = logging.getLogger("solti.bot.flows")

NO_CHANNEL_TEXT = "I don't know which channel to report progress in; run the command in a channel."


@dataclass
class Caller:
    """Who asked, where, and how to answer them privately."""

    runtime: Runtime
    user: str
    channel: str | None
    request_id: str
    reply: Callable[[dict[str, Any]], None]
    trigger_id: str | None = None
    # The cluster this request acts on: --cluster, else the channel's route, else default
    # (``listeners.dispatch.caller_from``); its work runs in ``runtime.on_cluster(cluster)``.
    cluster: str = "default"

    @property
    def provisioner(self) -> Any:
        """The provisioner of this request's cluster."""
        return self.runtime.clusters.get(self.cluster)

    def within(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` for this request's cluster (work not started through ``later``)."""
        with self.runtime.on_cluster(self.cluster):
            return fn(*args)

    def say_error(self, text: str, topic: str | None = None) -> None:
        """A refusal or failure, as a sentence alone: usage help is for mistyped commands
        (answered in the ack), so ``topic`` is accepted for old callers and not shown."""
        self.reply(error_message(text, topic))

    @property
    def groups(self) -> frozenset[str]:
        return self.runtime.groups_of(self.user)

    def authorize(
        self, verb: str, *, owner: str | None = None, requester: str | None = None
    ) -> Decision:
        """``bot.authorization.authorize`` for this person, here: the one check every flow
        makes, whichever entry point (command, form, button) it came from."""
        actor = Actor(self.user, self.groups)
        return authorize(
            verb, actor, self.channel, self.runtime.rules, owner=owner, requester=requester
        )

    def record_denied(self, action: str, reason: str, **fields: Any) -> None:
        """The audit record of a refusal the bot decided (``result="denied"``) for this person
        and request; a failing audit log must not hide the refusal, so it is only logged."""
        try:
            self.runtime.audit.record(
                action=action,
                actor=self.user,
                via="slack",
                result="denied",
                error=reason,
                request_id=self.request_id,
                **fields,
            )
        except Exception:
            log.exception("could not write the audit record of a refused %s", action)


# Request fields as people call them (the form's labels); provisioning's messages start with
# the field's code name (``vmid: ...``), which means nothing to someone in Slack.
FIELD_WORDS = {
    "template": "Template",
    "vmid": "VMID",
    "name": "Name",
    "disk": "Disk",
    "cores": "Cores",
    "memory": "Memory",
    "node": "Node",
    "ip": "Static address",
    "gw": "Gateway",
    "ssh_key": "SSH key",
    "ssh_keys": "SSH key",
    "user": "Login user",
    "tags": "Tags",
    "nameserver": "Name server",
    "searchdomain": "Search domain",
    "target_storage": "Storage",
    "timeout": "Timeout",
}
_FIELD_PREFIX = re.compile(r"^(?P<field>[a-z_]+)(?:\[\d+\])?: ")
# Messages that start with the bad value itself ("9500 is in the template range") read as
# a sentence once the field is named in front: "VMID 9500 is in the template range".
_VALUE_FIRST = re.compile(r"^['\"\d]")


def as_sentence(text: str, field: str | None = None) -> str:
    """A provisioning message as a plain sentence: no ``field:`` prefix, the field named in
    words where the message starts with the value, a capital letter and a full stop."""
    found = _FIELD_PREFIX.match(text)
    if found and found.group("field") in FIELD_WORDS:
        field = found.group("field")
        text = text[found.end() :]
    base = (field or "").split("[", 1)[0]
    if base in FIELD_WORDS and _VALUE_FIRST.match(text):
        text = f"{FIELD_WORDS[base]} {text}"
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """A message for people and the step it happened at; never a traceback or a secret."""
    step = getattr(exc, "step", None)
    if isinstance(exc, Unreachable):
        return (_unreachable_sentence(exc, step).replace("Proxmox VE", _pve(), 1), step)
    if isinstance(exc, TaskTimeout):
        return (
            f"{_pve()} is slow: a task did not finish in time ({exc.message}). "
            "It may still complete; check with `/solti vm list` before retrying.",
            step,
        )
    if isinstance(exc, ProxmoxError):
        return (f"{_pve()} refused: {exc.message}", step)
    if isinstance(
        exc, InvalidRequest | NotFound | Conflict | RangeExhausted | PolicyDenied | SoltiError
    ):
        text = exc.message if hasattr(exc, "message") else str(exc)
        return (as_sentence(text, getattr(exc, "field", None)), step)
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error (ref %s)", ref, exc_info=exc)
    return (f"Something went wrong on our side (reference `{ref}`); nothing more was done.", step)


def _pve() -> str:
    """ "Proxmox VE", naming the cluster when several are configured."""
    cluster = named_cluster()
    return f"Proxmox VE (cluster `{cluster}`)" if cluster else "Proxmox VE"


# Steps before which nothing can have been made: only then may a lost connection be told as
# "nothing was changed". Later (a clone sent, a task running), something may exist in PVE.
_NOTHING_MADE_BEFORE = {None, "plan", "checksum", "vmid"}


def _unreachable_sentence(exc: Unreachable, step: str | None) -> str:
    """Proxmox stopped answering: say what may exist, never "nothing was changed" unless true."""
    maybe_made = exc.__class__.__name__ in ("TaskLost", "MaybeApplied") or (
        step not in _NOTHING_MADE_BEFORE
    )
    if not maybe_made:
        return (
            "Proxmox VE is not answering right now, so nothing was changed. "
            "Try again in a minute; if it persists, tell an admin."
        )
    where = f" during step {step}" if step else ""
    return (
        f"Proxmox VE stopped answering{where}, so what was started may still exist "
        f"({exc.message}). Check with `/solti vm list` before retrying; an admin can run "
        "`solti reconcile` to finish or remove it."
    )


def channel_progress(caller: Caller, title: str) -> ProgressMessage | None:
    """The live progress message of a long run, in the caller's channel (not posted yet), kept
    in the progress book so a restarted bot finds it; None, the person told why, when the
    command came from nowhere a message can go."""
    if caller.channel is None:
        caller.say_error(NO_CHANNEL_TEXT)
        return None
    return ProgressMessage(
        caller.runtime.client,
        caller.channel,
        title,
        requester=caller.user,
        request_id=caller.request_id,
        book=ProgressBook(caller.runtime.database),
    )
