"""`solti sandbox`: the whole product on loopback, driven from a terminal.

A simulated cluster with a rocky9 template, the image mirror, the Slack stand-in and the real
bot over HTTP; the person types what they would type in Slack and reads the bot's messages
rendered as text. The same loop reads a script from stdin when stdin is not a terminal (the
tests do that), and leaves at EOF.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from solti.sandbox.console_commands import (
    CHANNELS,
    HELP,
    ROLES,
    SLASH_COMMAND,
    USERS,
    Command,
    escape_mentions,
    parse_command,
    slash_parts,
)
from solti.sandbox.console_screen import Screen
from solti.sandbox.console_tty import typing_hidden
from solti.sandbox.console_walk import Lines, LineSource, ask, walk_views

SIGNING_SECRET = "sandbox-signing-secret"


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
        """Read and run lines until quit or EOF. Ctrl-C never ends the session: a new user
        presses it to get out of a long wait or a half-typed line, not to lose the world."""
        self._set_prompt()
        while True:
            try:
                line = self.lines.read(Session.prompt_text)
            except KeyboardInterrupt:
                self.screen.say("")  # input() leaves the cursor after ^C
                self.screen.say("(line cleared; quit or Ctrl-D leaves the sandbox)", "dim")
                continue
            if line is None:
                break
            command = parse_command(line)
            if command.kind == "quit":
                break
            try:
                self.handle(command)
            except KeyboardInterrupt:
                self.screen.say("")
                self.screen.say("(stopped; the bot goes on with anything it started)", "dim")
            self._set_prompt()
        self.screen.settle(quiet=1.0, limit=10)

    def handle(self, command: Command) -> None:
        self.screen.busy = True  # the prompt is not on screen: progress may redraw in place
        try:
            with typing_hidden(getattr(self.lines, "interactive", False)):
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
                known = ", ".join("#" + name for name in CHANNELS.values())
                self.screen.say(f"no channel #{command.text}; try {known}", "error")
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
            self._send(lambda: self.agent.slash(escape_mentions(text), command=name, escaped=True))
        elif command.kind == "modal":
            views = self.world.standin.open_views(USERS[self.user])
            if not views:
                self.screen.say("no modal is open; /solti vm create opens one", "error")
                return
            walk_views(self.world.standin, self.agent, views[-1], self.screen, self.lines)
            self.screen.settle(quiet=0.5, limit=5)
        elif command.kind == "click":
            self._click(command)
        elif command.kind == "home":
            self._home()

    def _home(self) -> None:
        """Open the Home tab as Slack does (the ``app_home_opened`` event) and print it."""
        user, standin = USERS[self.user], self.world.standin
        before = (standin.home(user) or {}).get("hash")

        def published() -> dict[str, Any] | None:
            view = standin.home(user)
            return view if view is not None and view["hash"] != before else None

        self._send(lambda: self.agent.open_home())
        try:
            self.screen.show_home(user, standin.wait_for(published, timeout=30))
        except TimeoutError:
            self.screen.say("(the Home tab was not published within 30 s)", "error")

    def _wait(self, command: Command) -> None:
        if command.text:
            if getattr(self.lines, "interactive", False):
                # the text is not repeated: this line would be found by the wait itself
                self.screen.say("(waiting up to 180 s; Ctrl-C stops waiting)", "dim")
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
            if number is None:
                self.screen.say(f"no button labelled {command.text!r} on screen", "error")
                return
        problem = self.screen.why_not_clickable(number)
        found = self.screen.target_of(number)
        if problem or found is None:
            self.screen.say(problem or f"no button {number} on screen", "error")
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
        except LookupError as exc:  # an option that is not in the select
            self.screen.say(f"cannot click that: {exc}", "error")


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

    from solti.bot.settings import load_settings
    from solti.composition import HttpService, build_bot, build_provisioner
    from solti.provisioning import ProxmoxSettings, load_policy
    from solti.sandbox.environment import SimEnvironment
    from solti.sandbox.slack import SlackStandIn, SlackUser

    stack = contextlib.ExitStack()
    try:
        say("starting the Proxmox VE simulator and the image mirror ...")
        env = stack.enter_context(SimEnvironment(policy=_sandbox_policy(), workdir=workdir / "sim"))
        policy = load_policy(env.config_path)
        db = workdir / "solti.db"
        provisioner = build_provisioner(ProxmoxSettings.from_env(env.env), policy, db)
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
        bot = build_bot(settings, provisioner, policy, client=client)
        server = stack.enter_context(HttpService(bot))
        user = SlackUser(server.events_url, SIGNING_SECRET, standin, channel_id="C0INFRA")
        for user_id in USERS.values():
            user.as_user(user_id).slash(f"key set {_ssh_key()}")
        standin.wait_for(lambda: all(standin.ephemerals(u) for u in USERS.values()), 10)
        standin.reset()
    except BaseException:
        stack.close()
        raise
    return World(standin=standin, user=user, stack=stack)


@click.command(name="sandbox")
def sandbox_command() -> None:
    """Try everything locally: simulated Proxmox, mirror, Slack stand-in, the bot, a console."""
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
            lines = Lines(interactive, echo=lambda text: screen.say(text, "dim", typed=True))
            screen.prompt_shown = lambda: lines.showing
            session = Session(world, screen, lines)
            session.run()
        except KeyboardInterrupt:
            screen.say("interrupted")
        finally:
            screen.detach()
            world.close()
    screen.say("bye")


__all__ = ["Command", "Session", "parse_command", "sandbox_command", "start_world"]
