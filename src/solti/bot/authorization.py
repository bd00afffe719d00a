"""The one question every entry point asks: may this person do this verb here, to this VM?

Slash commands, form submissions, buttons (in messages, in modals, in App Home) all reach a
flow, and every flow asks ``authorize`` before it changes or shows anything. Before, the
channel was checked on the slash command alone, so a form submitted or a button clicked in
another channel went through, and ``vm start`` skipped the owner check: one function with one
table closes such side doors, and ``tests/bot/test_authorization.py`` runs the whole table.

Pure: the caller resolves the person's usergroups beforehand and passes them in. The rules
themselves (who is an admin, which channels are allowed) are ``bot.policy.Rules``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from solti.bot.policy import ALLOW, Decision, Rules

__all__ = ["VERBS", "Actor", "Need", "authorize"]


@dataclass(frozen=True)
class Actor:
    """Who asks: a Slack user id and the usergroups they are in."""

    user: str
    groups: Collection[str] = ()


@dataclass(frozen=True)
class Need:
    """What a verb asks of the person besides an allowed channel."""

    creator: bool = False  # policy `creators` (or an admin)
    owner: bool = False  # the VM's owner or an admin
    approver: bool = False  # policy `approvers`, never the requester


# Every verb an entry point can lead to. A verb missing here is refused (see ``authorize``),
# so a new flow cannot forget to say what it needs.
VERBS: dict[str, Need] = {
    "vm create": Need(creator=True),
    "form open": Need(creator=True),
    "vm list": Need(),
    "vm verify": Need(),
    "vm start": Need(owner=True),
    "vm stop": Need(owner=True),
    "vm shutdown": Need(owner=True),
    "vm remove": Need(owner=True),
    "vm give": Need(owner=True),
    # The flow checks the owner itself: [Extend] also comes from a DM reminder or App Home.
    "vm extend": Need(),
    "quota": Need(),
    "template list": Need(),
    "template build": Need(creator=True),
    "template destroy": Need(creator=True),
    "approval approve": Need(approver=True),
    "approval deny": Need(approver=True),
    "key set": Need(),
    "key show": Need(),
    "key remove": Need(),
    "audit": Need(),
    "report": Need(),
    "help": Need(),
    # Snapshots: the VM's owner or an admin, listing too (names and notes are the owner's).
    "snapshot create": Need(owner=True),
    "snapshot list": Need(owner=True),
    "snapshot rollback": Need(owner=True),
    "snapshot delete": Need(owner=True),
}


def authorize(
    verb: str,
    actor: Actor,
    channel: str | None,
    rules: Rules,
    *,
    owner: str | None = None,
    requester: str | None = None,
) -> Decision:
    """Allowed, or refused with the sentence the person sees.

    ``channel`` is where the request came from (for a form: the channel it was opened in);
    ``owner`` the target VM's owner (VM verbs); ``requester`` who asked for an approval.
    Checked in this order: the channel, then what the verb needs.
    """
    need = VERBS.get(verb)
    if need is None:
        return Decision(False, f"`{verb}` is not something Solti does.")
    where = rules.channel_allowed(channel)
    if not where:
        return where
    if need.creator:
        allowed = rules.may_create(actor.user, actor.groups)
        if not allowed:
            return allowed
    if need.owner:
        allowed = rules.may_manage_vm(actor.user, actor.groups, owner)
        if not allowed:
            return allowed
    if need.approver:
        allowed = rules.may_approve(actor.user, actor.groups, requester or "")
        if not allowed:
            return allowed
    return ALLOW
