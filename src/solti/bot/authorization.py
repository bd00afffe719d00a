"""The one question every entry point asks: may this person do this verb here, to this VM?

Slash commands, form submissions, buttons (in messages, in modals, in App Home) all reach a
flow, and every flow asks ``authorize`` before it changes or shows anything. Before, the
channel was checked on the slash command alone, so a form submitted or a button clicked in
another channel went through, and ``vm start`` skipped the owner check: one function with one
table closes such side doors, and ``tests/bot/test_authorization.py`` runs the whole table.

Pure: the caller resolves the person's usergroups beforehand and passes them in. The rules
themselves (who is an admin, which channels are allowed) are ``bot.policy.Rules``.

Surfaces: besides channels, a person meets Solti on surfaces of their own, the DM with the
app (lease reminders with [Extend]) and App Home ([Extend], [Start], [Stop] beside their
VMs). ``allowed_channels`` says where Solti may be used in the workspace's channels; it
cannot list a person's DM or Home, so verbs marked ``personal`` skip the channel rule there
(and only there), and keep every other check (owner or admin). Other verbs on a personal
surface meet the channel rule as anywhere else. Slash commands are checked against the
channel rule before any flow (``bot.middleware``), so a personal surface is a button's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from solti.bot.policy import ALLOW, Decision, Rules

__all__ = ["CHANNEL", "DM", "HOME", "VERBS", "Actor", "Need", "authorize", "surface_of"]

# Where a request came from (``surface_of``).
CHANNEL, DM, HOME = "channel", "dm", "home"
PERSONAL_SURFACES = frozenset({DM, HOME})


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
    personal: bool = False  # also from the person's DM with the app and App Home


# Every verb an entry point can lead to. A verb missing here is refused (see ``authorize``),
# so a new flow cannot forget to say what it needs.
VERBS: dict[str, Need] = {
    "vm create": Need(creator=True),
    "form open": Need(creator=True),
    "vm list": Need(),
    "vm verify": Need(),
    "vm start": Need(owner=True, personal=True),  # [Start] on App Home
    "vm stop": Need(owner=True, personal=True),  # [Stop] on App Home
    "vm shutdown": Need(owner=True),
    "vm remove": Need(owner=True),
    "vm give": Need(owner=True),
    # [Extend] comes from a DM reminder or App Home too (personal surfaces).
    "vm extend": Need(owner=True, personal=True),
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
    "vm rebuild": Need(owner=True),
    # [Dismiss] on an outdated-template notice: the flow checks it is the person's own notice.
    "notice dismiss": Need(),
    # Snapshots: the VM's owner or an admin, listing too (names and notes are the owner's).
    "snapshot create": Need(owner=True),
    "snapshot list": Need(owner=True),
    "snapshot rollback": Need(owner=True),
    "snapshot delete": Need(owner=True),
}


def surface_of(channel: str | None) -> str:
    """Where a request with ``channel`` came from: App Home has none (a click in a view);
    a DM's id starts with ``D`` (the app's messages there: reminders); the rest is a channel."""
    if channel is None:
        return HOME
    if channel.startswith("D"):
        return DM
    return CHANNEL


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
    Checked in this order: the channel (not for a ``personal`` verb on a personal surface,
    see the module), then what the verb needs.
    """
    need = VERBS.get(verb)
    if need is None:
        return Decision(False, f"`{verb}` is not something Solti does.")
    if not (need.personal and surface_of(channel) in PERSONAL_SURFACES):
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
