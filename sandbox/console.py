"""`solti sandbox`: the whole product on loopback, driven from a terminal.

A simulated cluster with a rocky9 template, the image mirror, the Slack stand-in and the real
bot over HTTP; the person types what they would type in Slack and reads the bot's messages
rendered as text. The same loop reads a script from stdin when stdin is not a terminal (the
tests do that), and leaves at EOF.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from sandbox.console_screen import Screen
from sandbox.console_walk import Lines, LineSource, ask, walk_views

USERS = {"alice": "U0ALICE", "bob": "U0BOB", "carol": "U0CAROL"}
ROLES = {"alice": "requester", "bob": "approver", "carol": "admin"}
CHANNELS = {"C0INFRA": "infra", "C0APPROVALS": "approvals", "C0REPORTS": "reports"}
SIGNING_SECRET = "sandbox-signing-secret"

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
  show                           print every message again
  help                           this text;  quit (or Ctrl-D) leaves
In a modal each field is asked in turn: type a value (or an option's number), Enter keeps
what is shown, `click N` clicks a button inside the modal, `cancel` closes it.
In Slack @name and #channel become mentions; they do here too (/solti audit --user @bob)."""


@dataclass(frozen=True)
class Command:
    """One parsed console line. `kind` is one of the verbs below; `error` explains a typo."""

    kind: str  # slash | click | as | in | wait | modal | show | help | quit | empty | error
    text: str = ""
    number: int | None = None
    error: str = ""


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
    if verb == "click":
        number, _, option = rest.partition(" ")
        if not rest:
            return Command("error", error="usage: click N [OPTION] or click LABEL")
        if not number.isdigit():
            return Command("click", rest.strip("\"'"), None)  # by label: the latest such button
        return Command("click", option.strip(), int(number))
    if verb == "as":
        name = rest.lstrip("@").lower()
        if not name:
            return Command("error", error="usage: as @name (" + ", ".join(USERS) + ")")
        return Command("as", name)
    if verb == "in":
        if not rest:
            return Command("error", error="usage: in #channel")
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
    return Command("error", error=f"unknown command {verb!r}; type help")


def slash_parts(line: str) -> tuple[str, str]:
    """`/solti vm create x` -> ("/solti", "vm create x")."""
    command, _, text = line.strip().partition(" ")
    return command, text.strip()


SLASH_COMMAND = "/solti"  # the one command manifest.yml installs
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


class Session:
    """The console loop around one running world (stand-in, bot, user agent)."""

    prompt_text = "> "

    def __init__(self, world: Any, screen: Screen, lines: LineSource) -> None:
        self.world = world
        self.screen = screen
        self.lines = lines
        self.user = "alice"
        self.channel = "C0INFRA"

    @property
    def agent(self) -> Any:
        return self.world.user.as_user(USERS[self.user]).in_channel(self.channel)

    def _set_prompt(self) -> None:
        Session.prompt_text = f"{self.user}@#{CHANNELS.get(self.channel, self.channel)}> "

    def run(self) -> None:
        self._set_prompt()
        while (line := self.lines.read(Session.prompt_text)) is not None:
            command = parse_command(line)
            if command.kind == "quit":
                break
            self.handle(command)
            self._set_prompt()
        self.screen.settle(quiet=1.0, limit=10)

    def handle(self, command: Command) -> None:
        self.screen.busy = True  # the prompt is not on screen: progress may redraw in place
        try:
            self._handle(command)
        finally:
            self.screen.busy = False

    def _handle(self, command: Command) -> None:
        if command.kind == "help":
            self.screen.say(HELP)
        elif command.kind == "error":
            self.screen.say(command.error, style="error")
        elif command.kind == "show":
            self.screen.show_all()
        elif command.kind == "as":
            if command.text not in USERS:
                self.screen.say(f"no such person @{command.text}; try {', '.join(USERS)}", "error")
                return
            self.user = command.text
            self.screen.viewer = USERS[self.user]
            self.screen.say(f"now acting as @{self.user} ({ROLES[self.user]})", "dim")
        elif command.kind == "in":
            found = [cid for cid, name in CHANNELS.items() if name == command.text]
            if not found:
                self.screen.say(f"no channel #{command.text}", "error")
                return
            self.channel = found[0]
        elif command.kind == "wait":
            self._wait(command)
        elif command.kind == "slash":
            name, text = slash_parts(command.text)
            if name != SLASH_COMMAND:
                self.screen.say(
                    f"{name} is not a command in this workspace; the bot's is {SLASH_COMMAND}"
                    f" (try {SLASH_COMMAND} help)",
                    "error",
                )
                return
            self._send(lambda: self.agent.slash(escape_mentions(text), command=name))
        elif command.kind == "modal":
            views = self.world.standin.open_views(USERS[self.user])
            if not views:
                self.screen.say("no modal is open; /solti vm create opens one", "error")
                return
            walk_views(self.world.standin, self.agent, views[-1], self.screen, self.lines)
            self.screen.settle(quiet=0.5, limit=5)
        elif command.kind == "click":
            self._click(command)

    def _wait(self, command: Command) -> None:
        if command.text:
            if not self.screen.wait_for_text(command.text, timeout=180):
                self.screen.say(f"(still no {command.text!r} after 180 s)", "error")
        elif command.number is not None:
            self.screen.settle(quiet=float(command.number), limit=float(command.number))
        else:
            self.screen.settle(quiet=2.0, limit=180)

    def _send(self, request: Any) -> None:
        self.screen.mark()
        before = {v["id"] for v in self.world.standin.open_views()}
        version = self.world.standin.state.version
        reply = request()
        if reply.status_code != 200:
            self.screen.say(f"(the bot answered HTTP {reply.status_code})", "error")
        else:  # the answer may come after the ack (a report, a post): wait for the first change
            self.screen.settle(quiet=0.5, limit=15, after_version=version)
        opened = [
            v for v in self.world.standin.open_views(USERS[self.user]) if v["id"] not in before
        ]
        if opened:
            walk_views(self.world.standin, self.agent, opened[-1], self.screen, self.lines)
            self.screen.settle(quiet=0.5, limit=5)

    def _click(self, command: Command) -> None:
        number = command.number
        option = command.text or None
        if number is None:
            number, option = self.screen.number_of(command.text), None
        found = self.screen.target_of(number or 0)
        if found is None:
            self.screen.say(f"no button {command.number or command.text!r} on screen", "error")
            return
        target, clickable = found
        confirm = clickable.confirm
        if confirm:
            title = confirm.get("title", {}).get("text", "Are you sure?")
            text = confirm.get("text", {}).get("text", "")
            answer = ask(self.lines, self.screen, f"{title} {text} [y/N]")
            if (answer or "").strip().lower() not in ("y", "yes"):
                self.screen.say("(not confirmed; nothing sent)", "dim")
                return
        if clickable.options and option is None:
            values = ", ".join(str(o.get("value")) for o in clickable.options)
            option = ask(self.lines, self.screen, f"choose one of: {values}")
        try:
            self._send(lambda: self.agent.click(target, clickable.index, option=option))
        except LookupError as exc:  # the message was edited and the button is gone
            self.screen.say(f"cannot click that now: {exc}", "error")


@dataclass
class World:
    """Everything `solti sandbox` starts; `close()` stops it in reverse order."""

    standin: Any
    user: Any
    stack: contextlib.ExitStack

    def close(self) -> None:
        self.stack.close()


def _sandbox_policy() -> dict[str, Any]:
    return {
        "approvers": [USERS["bob"], USERS["carol"]],
        "admins": [USERS["carol"]],
        "approvals_channel": "C0APPROVALS",
        "reports": {"channel": "C0REPORTS"},
        "quotas": {"max_vms_per_user": 5},
    }


def _ssh_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " sandbox@solti"


def start_world(workdir: Path, say: Any) -> World:
    """Start simulator, mirror, a built template, the stand-in and the bot (in that order)."""
    from slack_sdk import WebClient

    from bot.app import create_app
    from bot.server import HttpServer
    from bot.settings import load_settings
    from provisioning import ProxmoxSettings, load_policy
    from sandbox.environment import SimEnvironment
    from sandbox.slack import SlackStandIn, SlackUser

    Provisioner = _provisioner_class()
    stack = contextlib.ExitStack()
    try:
        say("starting the Proxmox VE simulator and the image mirror ...")
        env = stack.enter_context(SimEnvironment(policy=_sandbox_policy(), workdir=workdir / "sim"))
        policy = load_policy(env.config_path)
        db = workdir / "solti.db"
        provisioner = Provisioner.from_settings(ProxmoxSettings.from_env(env.env), policy, db)
        say("building the rocky9 template (download, checksum, import) ...")
        provisioner.build_template("rocky9", actor="sandbox", via="cli")
        standin = stack.enter_context(SlackStandIn(trigger_ttl=None))
        for name, user_id in USERS.items():
            standin.add_user(user_id, name, name.title())
        for channel_id, name in CHANNELS.items():
            standin.add_channel(channel_id, name, list(USERS.values()))
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-sandbox",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": standin.url,
                "SOLTI_DB": str(db),
                "SOLTI_CONFIG": str(env.config_path),
            }
        )
        client = WebClient(token="xoxb-sandbox", base_url=standin.url)
        app = create_app(settings, provisioner, policy, client=client)
        server = stack.enter_context(HttpServer(app))
        user = SlackUser(server.events_url, SIGNING_SECRET, standin, channel_id="C0INFRA")
        for user_id in USERS.values():
            user.as_user(user_id).slash(f"key set {_ssh_key()}")
        standin.wait_for(lambda: all(standin.ephemerals(u) for u in USERS.values()), 10)
        standin.reset()
    except BaseException:
        stack.close()
        raise
    return World(standin=standin, user=user, stack=stack)


def _provisioner_class() -> Any:
    """The façade, from the package's front door or (until it is exported) its module."""
    try:
        from provisioning import Provisioner
    except ImportError:
        from provisioning.service import Provisioner
    return Provisioner


def _missing_part() -> str | None:
    """Which part of the product is not installed, in words (None when all are there)."""
    parts = {
        "bot.app": "the Slack bot (bot.app.create_app)",
        "bot.server": "the bot's HTTP server (bot.server.HttpServer)",
        "provisioning": "the provisioning façade (provisioning.Provisioner)",
        "sandbox.environment": "the simulated environment (sandbox.environment)",
    }
    for module, words in parts.items():
        try:
            __import__(module)
        except ImportError as exc:
            return f"{words} is missing ({exc})"
    try:
        _provisioner_class()
    except ImportError as exc:
        return f"{parts['provisioning']} is missing ({exc})"
    return None


@click.command(name="sandbox")
def sandbox_command() -> None:
    """Try everything locally: simulated Proxmox, mirror, Slack stand-in, the bot, a console."""
    missing = _missing_part()
    if missing:
        click.echo(f"solti sandbox: cannot start: {missing}.", err=True)
        sys.exit(2)
    interactive = sys.stdin.isatty()
    screen = Screen(color=sys.stdout.isatty())
    with tempfile.TemporaryDirectory(prefix="solti-sandbox-") as tmp:
        try:
            world = start_world(Path(tmp), lambda text: screen.say(text, "dim"))
        except Exception as exc:  # start-up failures are reported in one line
            click.echo(f"solti sandbox: could not start: {exc}", err=True)
            sys.exit(1)
        try:
            screen.attach(world.standin, viewer=USERS["alice"])
            screen.say("ready. You are @alice in #infra. Try: /solti vm create rocky9 (help)")
            lines = Lines(interactive, echo=lambda text: screen.say(text, "dim"))
            session = Session(world, screen, lines)
            session.run()
        except KeyboardInterrupt:
            screen.say("interrupted")
        finally:
            screen.detach()
            world.close()
    screen.say("bye")


__all__ = ["Command", "Session", "parse_command", "sandbox_command", "start_world"]
