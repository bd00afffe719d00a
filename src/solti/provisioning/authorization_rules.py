"""Who may do which verb: the one table and the one decision every entry point asks.

Slack (slash command, form, button, shortcut, App Home) and the CLI run the same verbs, so
they ask the same question through the same function, ``authorize``. What differs between
them is *who someone is* there, and that is a ``Judge``: the bot's (``bot.authorization``)
knows Slack ids, usergroups, channels and the policy's ``admins``/``creators``/``approvers``;
the CLI's (``CliJudge``) knows login names and ``cli.operators``. The table and the order of
the checks live here, in provisioning, so the CLI uses them without importing the bot
(provisioning never imports bot; the bot imports this).

Pure: no I/O. The caller resolves the person's groups and the VM's owner beforehand.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "ALLOW", "CLI", "SLACK", "VERBS", "Actor", "CliJudge", "Decision", "Judge", "Need",
    "authorize",
]  # fmt: skip

# The entry points' families: the Slack app (every Slack surface) and the `solti` command.
SLACK, CLI = "slack", "cli"
BOTH = frozenset({SLACK, CLI})


@dataclass(frozen=True)
class Decision:
    """Allowed, or refused with the sentence the person sees (the wording lives by the rule)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


@dataclass(frozen=True)
class Actor:
    """Who asks: a Slack user id or a login name, and the groups they are in."""

    user: str
    groups: Collection[str] = ()


@dataclass(frozen=True)
class Need:
    """What a verb asks of the person besides an allowed place."""

    creator: bool = False  # policy `creators` (or an admin); the CLI lets every user create
    owner: bool = False  # the VM's owner, an admin (Slack) or an operator (CLI)
    approver: bool = False  # policy `approvers`, never the requester
    personal: bool = False  # also from the person's DM with the app and App Home
    # Acts on the whole fleet, not one person's VM. In the CLI: `cli.operators`. In Slack the
    # template verbs wait for an approver instead (`approvers`), which is that check there.
    operator: bool = False
    entries: frozenset[str] = field(default=BOTH)  # where the verb exists


_CLI_ONLY = frozenset({CLI})

# Every verb an entry point can lead to. A verb missing here is refused (see ``authorize``),
# so a new flow or CLI verb cannot forget to say what it needs.
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
    "template build": Need(creator=True, operator=True),
    "template destroy": Need(creator=True, operator=True),
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
    # The CLI's own verbs (the bot runs the sweep and reconcile itself, on a schedule).
    "template verify": Need(entries=_CLI_ONLY),
    "template updates": Need(entries=_CLI_ONLY),
    "reconcile": Need(operator=True, entries=_CLI_ONLY),
    "lease sweep": Need(operator=True, entries=_CLI_ONLY),
}


class Judge(Protocol):
    """Who someone is on one family of entry points; each answer is a ``Decision``."""

    entry: str  # SLACK or CLI

    def place_allowed(self, place: str | None, *, personal: bool) -> Decision:
        """May Solti be used where the request came from (a Slack channel; the CLI: anywhere)?
        ``personal``: the verb may also be used on the person's own surfaces."""
        ...

    def may_create(self, actor: Actor) -> Decision: ...

    def may_manage(self, actor: Actor, owner: str | None) -> Decision: ...

    def may_approve(self, actor: Actor, requester: str | None) -> Decision: ...

    def may_operate(self, actor: Actor) -> Decision: ...


def authorize(
    verb: str,
    actor: Actor,
    place: str | None,
    judge: Judge,
    *,
    owner: str | None = None,
    requester: str | None = None,
) -> Decision:
    """Allowed, or refused with the sentence the person sees.

    ``place`` is where the request came from (Slack: the channel, for a form the channel it was
    opened in; the CLI: ``None``); ``owner`` the target VM's owner (VM verbs); ``requester``
    who asked for an approval. Checked in this order: the verb exists on this entry point, the
    place, then what the verb needs (operator, creator, owner, approver).
    """
    need = VERBS.get(verb)
    if need is None:
        return Decision(False, f"`{verb}` is not something Solti does.")
    if judge.entry not in need.entries:
        where = "`solti` command" if CLI in need.entries else "Slack app"
        return Decision(False, f"`{verb}` is a verb of the {where} only.")
    checks = (
        lambda: judge.place_allowed(place, personal=need.personal),
        lambda: judge.may_operate(actor) if need.operator else ALLOW,
        lambda: judge.may_create(actor) if need.creator else ALLOW,
        lambda: judge.may_manage(actor, owner) if need.owner else ALLOW,
        lambda: judge.may_approve(actor, requester) if need.approver else ALLOW,
    )
    for check in checks:
        decision = check()
        if not decision:
            return decision
    return ALLOW


@dataclass(frozen=True)
class CliJudge:
    """The CLI's answers: ``operators`` are the login names of policy ``cli.operators``;
    ``None`` (the key absent) makes every CLI user an operator, as on an admin's own machine.

    A user who is not an operator is an ordinary user: they may create and read, and act on
    VMs they own (the audit's owner; a CLI create's owner is the login name), nothing
    fleet-wide. Operators act on any VM, as admins do in Slack.
    """

    operators: frozenset[str] | None = None
    entry: str = CLI

    def is_operator(self, actor: Actor) -> bool:
        return self.operators is None or actor.user in self.operators

    def place_allowed(self, place: str | None, *, personal: bool) -> Decision:
        return ALLOW  # a terminal has no channel: who may log in on it is the host's business

    def may_create(self, actor: Actor) -> Decision:
        return ALLOW  # every CLI user may create; quotas and approvals still apply

    def may_manage(self, actor: Actor, owner: str | None) -> Decision:
        if (owner is not None and owner == actor.user) or self.is_operator(actor):
            return ALLOW
        whose = owner or "nobody recorded in the audit log"
        return Decision(
            False,
            f"this VM belongs to {whose}; only its owner or an operator (policy `cli.operators`, "
            f"which does not list {actor.user}) may do that.",
        )

    def may_approve(self, actor: Actor, requester: str | None) -> Decision:
        return Decision(False, "approvals are decided in Slack, not with the `solti` command.")

    def may_operate(self, actor: Actor) -> Decision:
        if self.is_operator(actor):
            return ALLOW
        return Decision(
            False,
            f"only operators may do that, and policy `cli.operators` does not list {actor.user}.",
        )
