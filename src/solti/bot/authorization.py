"""The one question every entry point asks: may this person do this verb here, to this VM?

Slash commands, form submissions, buttons (in messages, in modals, in App Home) all reach a
flow, and every flow asks ``authorize`` before it changes or shows anything. Before, the
channel was checked on the slash command alone, so a form submitted or a button clicked in
another channel went through, and ``vm start`` skipped the owner check: one function with one
table closes such side doors, and ``tests/bot/test_authorization.py`` runs the whole table.

Pure: the caller resolves the person's usergroups beforehand and passes them in. The rules
themselves (who is an admin, which channels are allowed) are ``bot.policy.Rules``. The table
(``VERBS``) and the order of the checks are ``provisioning.authorization_rules``, shared with
the CLI (``solti vm remove`` as a user asks the same function); this module is Slack's
``Judge`` over it: Slack ids, usergroups, channels and personal surfaces.

Surfaces: besides channels, a person meets Solti on surfaces of their own, the DM with the
app (lease reminders with [Extend]) and App Home ([Extend], [Start], [Stop] beside their
VMs). ``allowed_channels`` says where Solti may be used in the workspace's channels; it
cannot list a person's DM or Home, so verbs marked ``personal`` skip the channel rule there
(and only there), and keep every other check (owner or admin). Other verbs on a personal
surface meet the channel rule as anywhere else. Slash commands are checked against the
channel rule before any flow (``bot.middleware``), so a personal surface is a button's.
"""

from __future__ import annotations

from dataclasses import dataclass

from solti.bot.policy import ALLOW, Decision, Rules
from solti.provisioning import authorization_rules
from solti.provisioning.authorization_rules import SLACK, Actor, Need

__all__ = [
    "CHANNEL",
    "DM",
    "HOME",
    "VERBS",
    "Actor",
    "Need",
    "SlackJudge",
    "authorize",
    "surface_of",
]

# Where a request came from (``surface_of``).
CHANNEL, DM, HOME = "channel", "dm", "home"
PERSONAL_SURFACES = frozenset({DM, HOME})

# The verbs a Slack entry point can lead to (the shared table without the CLI's own verbs).
VERBS: dict[str, Need] = {
    verb: need for verb, need in authorization_rules.VERBS.items() if SLACK in need.entries
}


def surface_of(channel: str | None) -> str:
    """Where a request with ``channel`` came from: App Home has none (a click in a view);
    a DM's id starts with ``D`` (the app's messages there: reminders); the rest is a channel."""
    if channel is None:
        return HOME
    if channel.startswith("D"):
        return DM
    return CHANNEL


@dataclass(frozen=True)
class SlackJudge:
    """``authorization_rules.Judge`` for Slack: the policy's ``Rules`` and Slack's surfaces."""

    rules: Rules
    entry: str = SLACK

    def place_allowed(self, place: str | None, *, personal: bool) -> Decision:
        if personal and surface_of(place) in PERSONAL_SURFACES:
            return ALLOW
        return self.rules.channel_allowed(place)

    def may_create(self, actor: Actor) -> Decision:
        return self.rules.may_create(actor.user, actor.groups)

    def may_manage(self, actor: Actor, owner: str | None) -> Decision:
        return self.rules.may_manage_vm(actor.user, actor.groups, owner)

    def may_approve(self, actor: Actor, requester: str | None) -> Decision:
        return self.rules.may_approve(actor.user, actor.groups, requester or "")

    def may_operate(self, actor: Actor) -> Decision:
        """Slack's fleet-wide verbs (template build, destroy) wait for an approver
        (``approvers``): that is the operator's check here; asking needs ``creators``."""
        return ALLOW


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
    see the module), then what the verb needs (``authorization_rules.authorize``).
    """
    if verb not in VERBS:
        return Decision(False, f"`{verb}` is not something Solti does.")
    return authorization_rules.authorize(
        verb, actor, channel, SlackJudge(rules), owner=owner, requester=requester
    )
