"""The console's command line: what a typed line means, with no side effects.

Kept apart from the loop that runs the world so every typo a new user makes can be tested
without starting anything: each mistake becomes a `Command("error")` whose text says what
to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USERS = {"alice": "U0ALICE", "bob": "U0BOB", "carol": "U0CAROL"}
ROLES = {"alice": "requester", "bob": "approver", "carol": "admin"}
CHANNELS = {"C0INFRA": "infra", "C0APPROVALS": "approvals", "C0REPORTS": "reports"}
SLASH_COMMAND = "/solti"  # the one command manifest.yml installs
# The bot's top-level verbs: a line starting with one of them was meant for /solti.
BOT_VERBS = ("vm", "template", "key", "audit", "report")

HELP = """\
Type what you would type in Slack: any /solti command. Plus these console commands:
  /solti help                    the bot's own help (every slash command, with examples)
  click N                        click button N, e.g. click 2 (numbers run on across the session)
  click N OPTION                 choose OPTION in select N, e.g. click 3 pve2
  click LABEL                    click the latest button labelled LABEL, e.g. click Approve
  as @NAME                       act as another person, e.g. as @bob: @alice (requester),
                                 @bob (approver), @carol (admin)
  in #CHANNEL                    type in another channel: #infra, #approvals, #reports
  wait [SECONDS | for TEXT]      wait until the bot is quiet, SECONDS, or TEXT shows up,
                                 e.g. wait for is ready
  modal                          fill the modal that is open again (if you left it)
  home                           open the app's Home tab: your VMs, leases, buttons
  show                           print every message again
  help                           this text;  quit (or Ctrl-D) leaves
Ctrl-C stops a wait, leaves a modal open (`modal` goes back to it) or clears the line.
In a modal each field is asked in turn: type a value (or an option's number), Enter keeps
what is shown, `click N` clicks a button inside the modal, `cancel` closes it.
In Slack @name and #channel become mentions; they do here too (/solti audit --user @bob)."""


@dataclass(frozen=True)
class Command:
    """One parsed console line. `kind` is one of the verbs below; `error` explains a typo."""

    kind: str  # slash | click | as | in | wait | modal | home | show | help | quit | empty | error
    text: str = ""
    number: int | None = None
    error: str = ""


def _channel_list() -> str:
    return ", ".join("#" + name for name in CHANNELS.values())


def _unknown(verb: str, rest: str) -> Command:
    """A line the console does not know; when it reads like a bot command typed without its
    slash (`vm list`, `solti help`), say the line that works, since that is the usual slip."""
    if verb in ("solti", "solti:"):
        return Command("error", error=f"unknown command {verb!r}; did you mean: /solti {rest}")
    if verb in BOT_VERBS:
        meant = f"/solti {verb} {rest}".rstrip()
        return Command("error", error=f"unknown command {verb!r}; did you mean: {meant}")
    return Command("error", error=f"unknown command {verb!r}; type help")


def parse_command(line: str) -> Command:
    """Pure: a console line -> Command (no side effects, so it is tested alone)."""
    line = line.strip()
    if not line or line.startswith("#!"):
        return Command("empty")
    if line.startswith("/"):
        return Command("slash", line)
    verb, _, rest = line.partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("quit", "exit", "q"):
        return Command("quit")
    if verb in ("help", "?"):
        return Command("help")
    if verb == "show":
        return Command("show")
    if verb == "modal":
        return Command("modal")
    if verb == "home":
        return Command("home")
    if verb == "click":
        number, _, option = rest.partition(" ")
        if not rest:
            return Command("error", error="usage: click N [OPTION] or click LABEL")
        if not number.isdigit():
            return Command("click", rest.strip("\"'"), None)  # by label: the latest such button
        if int(number) == 0:
            return Command("error", error="buttons are numbered from 1: click N, e.g. click 1")
        return Command("click", option.strip(), int(number))
    if verb == "as":
        name = rest.lstrip("@").lower()
        if not name:
            return Command("error", error="usage: as @name (" + ", ".join(USERS) + ")")
        return Command("as", name)
    if verb == "in":
        if not rest:
            return Command("error", error=f"usage: in #channel ({_channel_list()})")
        return Command("in", rest.lstrip("#").lower())
    if verb == "wait":
        if not rest:
            return Command("wait")
        if rest.startswith("for "):
            return Command("wait", rest[4:].strip().strip("\"'"))
        try:
            return Command("wait", number=max(0, int(float(rest))))
        except ValueError:
            return Command("error", error="usage: wait [SECONDS | for TEXT]")
    return _unknown(verb, rest or ("help" if verb.startswith("solti") else ""))


def slash_parts(line: str) -> tuple[str, str]:
    """`/solti vm create x` -> ("/solti", "vm create x")."""
    command, _, text = line.strip().partition(" ")
    return command, text.strip()


_MENTION = re.compile(r"(?<!\S)([@#])([a-z0-9._-]+)\b", re.IGNORECASE)


def escape_mentions(text: str) -> str:
    """What Slack sends for `@bob` and `#infra` typed in a slash command (should_escape:
    true in manifest.yml): `<@U0BOB|bob>`, `<#C0INFRA|infra>`. Unknown names stay text."""
    channels = {name: cid for cid, name in CHANNELS.items()}

    def sub(match: re.Match[str]) -> str:
        sigil, name = match.group(1), match.group(2).lower()
        if sigil == "@" and name in USERS:
            return f"<@{USERS[name]}|{name}>"
        if sigil == "#" and name in channels:
            return f"<#{channels[name]}|{name}>"
        return match.group(0)

    return _MENTION.sub(sub, text)


__all__ = [
    "BOT_VERBS",
    "CHANNELS",
    "HELP",
    "ROLES",
    "SLASH_COMMAND",
    "USERS",
    "Command",
    "escape_mentions",
    "parse_command",
    "slash_parts",
]
