"""What a new user trips over in the console, driven without starting the world.

Ctrl-C (at the prompt, in a wait, in a modal) must never end the session; a stale or
unknown button number must say why it cannot be clicked; a bot command typed without its
slash must say the line that works; a modal field must show what Enter keeps.
"""

from __future__ import annotations

import io
import os
import re
import threading
from typing import Any

import pytest

from solti.sandbox.console import Session
from solti.sandbox.console_commands import parse_command
from solti.sandbox.console_screen import Screen
from solti.sandbox.console_tty import typing_hidden
from solti.sandbox.console_walk import LEFT, walk_views
from solti.sandbox.render import Clickable, render_message, still_offered
from tests.console.test_console_units import FakeAgent, FakeScreen, FakeStandIn, SubmittingAgent

# -- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("vm list", "did you mean: /solti vm list"),
        ("Vm create rocky9 --disk 50G", "did you mean: /solti vm create rocky9 --disk 50G"),
        ("report", "did you mean: /solti report"),
        ("solti help", "did you mean: /solti help"),
        ("solti vm list", "did you mean: /solti vm list"),
        ("solti", "did you mean: /solti help"),
    ],
)
def test_a_bot_command_without_its_slash_gets_the_line_that_works(line: str, meant: str) -> None:
    command = parse_command(line)
    assert command.kind == "error"
    assert command.error.endswith(meant)


def test_other_unknown_words_point_to_help() -> None:
    assert parse_command("frobnicate now").error == "unknown command 'frobnicate'; type help"


def test_click_zero_is_a_mistake_not_a_click() -> None:
    command = parse_command("click 0")
    assert command.kind == "error"
    assert "numbered from 1" in command.error


def test_in_without_a_channel_lists_the_channels() -> None:
    assert "#infra, #approvals, #reports" in parse_command("in").error


# -- Ctrl-C --------------------------------------------------------------------------------


class Keys:
    """Typed lines; the string "^C" stands for Ctrl-C at that prompt."""

    def __init__(self, *typed: str) -> None:
        self.typed = list(typed)
        self.interactive = True
        self.prompts: list[str] = []

    def read(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        if not self.typed:
            return None
        line = self.typed.pop(0)
        if line == "^C":
            raise KeyboardInterrupt
        return line


class Out:
    """The part of Screen a Session uses; `wait for` is interrupted like a person would."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.busy = False
        self.settled = 0

    def say(self, text: str, style: str = "text") -> None:
        self.lines.extend(text.split("\n"))

    def settle(self, quiet: float, limit: float, after_version: int | None = None) -> None:
        self.settled += 1

    def wait_for_text(self, text: str, timeout: float) -> bool:
        raise KeyboardInterrupt  # Ctrl-C while waiting

    def mark(self) -> None:
        pass


def test_ctrl_c_at_the_prompt_or_in_a_wait_does_not_end_the_session() -> None:
    out = Out()
    session = Session(world=None, screen=out, lines=Keys("^C", "wait for never", "help"))
    session.run()  # returns at the end of the keys, not at the first Ctrl-C
    text = "\n".join(out.lines)
    assert "(line cleared; quit or Ctrl-D leaves the sandbox)" in text
    assert "(waiting up to 180 s; Ctrl-C stops waiting)" in text
    assert "(stopped; the bot goes on with anything it started)" in text
    assert "Type what you would type in Slack" in text  # `help` after both still ran
    assert out.busy is False  # the interrupted command did not leave the screen "busy"


def test_the_wait_message_does_not_contain_the_text_it_waits_for() -> None:
    out = Out()
    Session(world=None, screen=out, lines=Keys("wait for is ready")).run()
    assert not any("is ready" in line for line in out.lines)


MODAL = {
    "id": "V9",
    "root_view_id": "V9",
    "type": "modal",
    "title": {"type": "plain_text", "text": "Create a VM"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "optional": True,
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "name"},
        },
        {
            "type": "input",
            "block_id": "clone",
            "label": {"type": "plain_text", "text": "Clone mode"},
            "element": {
                "type": "radio_buttons",
                "action_id": "clone",
                "initial_option": {
                    "text": {"type": "plain_text", "text": "Linked clone"},
                    "value": "linked",
                },
                "options": [
                    {"text": {"type": "plain_text", "text": "Linked clone"}, "value": "linked"},
                    {"text": {"type": "plain_text", "text": "Full clone"}, "value": "full"},
                ],
            },
        },
    ],
}


def test_ctrl_c_in_a_modal_leaves_it_open_for_the_modal_command() -> None:
    standin = FakeStandIn(MODAL)
    agent = FakeAgent(standin)
    screen = FakeScreen()
    walk_views(standin, agent, MODAL, screen, Keys("web-1", "^C"))
    assert agent.closed == []  # not cancelled: `modal` can go back to it
    assert standin.open_views() == [MODAL]
    assert LEFT in screen.out


def test_a_field_prompt_says_what_enter_keeps_and_enter_keeps_it() -> None:
    standin = FakeStandIn(MODAL)
    agent = SubmittingAgent(standin)
    screen = FakeScreen()
    keys = Keys("", "", "y")
    walk_views(standin, agent, MODAL, screen, keys)
    assert "  Name [plain_text_input, optional]: " in keys.prompts  # nothing to keep
    assert "  Clone mode [radio_buttons, required] (now: linked): " in keys.prompts
    assert agent.submitted == [{}]  # Slack submits the initial option itself


def test_the_modal_hint_mentions_click_only_when_the_modal_has_buttons() -> None:
    standin = FakeStandIn(MODAL)
    screen = FakeScreen()
    walk_views(standin, FakeAgent(standin), MODAL, screen, Keys("cancel"))
    hint = next(line for line in screen.out if "Enter keeps what is shown" in line)
    assert "click N" not in hint


# -- stale and unknown buttons -------------------------------------------------------------

APPROVAL = {
    "channel": "C0APPROVALS",
    "ts": "1.000001",
    "text": "asks",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "@alice asks"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": "deny",
                    "text": {"type": "plain_text", "text": "Deny"},
                },
            ],
        },
    ],
}


class Messages:
    """Just enough of the Slack stand-in for Screen: messages that can be edited and deleted."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self.messages = list(messages)
        self.calls: list[Any] = []
        self.state = type(
            "State",
            (),
            {"users": {}, "channels": {}, "version": 0, "changed": threading.Condition()},
        )()

    def all_messages(self) -> list[dict[str, Any]]:
        return list(self.messages)

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        return []


def _screen(messages: Messages) -> Screen:
    screen = Screen(color=False)
    screen.standin = messages  # attached without the watcher thread: refresh() by hand
    screen.refresh()
    return screen


def test_an_unknown_number_says_which_numbers_exist(capsys: pytest.CaptureFixture[str]) -> None:
    screen = _screen(Messages(APPROVAL))
    assert "[1 Approve] [2 Deny]" in capsys.readouterr().out
    assert screen.why_not_clickable(99) == "no button 99: the buttons so far are numbered 1-2"
    assert screen.why_not_clickable(1) is None
    assert _screen(Messages()).why_not_clickable(1) == "no button 1: none is shown yet"


def test_a_button_taken_away_by_an_edit_is_not_clicked_by_its_old_number() -> None:
    messages = Messages(APPROVAL)
    screen = _screen(messages)
    decided = dict(APPROVAL, blocks=[APPROVAL["blocks"][0]])  # "Approved by @bob", no buttons
    messages.messages = [decided]
    screen.refresh()
    reason = screen.why_not_clickable(1)
    assert reason is not None
    assert reason.startswith("button 1 (Approve) is no longer there: that message was edited")


def test_a_button_of_a_deleted_message_is_gone() -> None:
    messages = Messages(APPROVAL)
    screen = _screen(messages)
    messages.messages = []
    assert screen.why_not_clickable(2) == "button 2 (Deny) is gone: its message was deleted"


def test_still_offered_compares_the_element_at_the_same_place() -> None:
    approve: Clickable = render_message(APPROVAL).actions[1]
    assert still_offered(APPROVAL, approve)
    swapped = dict(
        APPROVAL,
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "retry",
                        "text": {"type": "plain_text", "text": "Retry"},
                    }
                ],
            }
        ],
    )
    assert not still_offered(swapped, approve)  # something else sits at number 1 now
    assert not still_offered({"blocks": []}, approve)


# -- messages that arrive while the person is typing ---------------------------------------


def _terminal_screen(messages: Messages, prompt: str | None) -> tuple[Screen, io.StringIO]:
    from rich.console import Console

    out = io.StringIO()
    screen = Screen(color=False)
    screen._rich = Console(file=out, force_terminal=True, width=120, highlight=False)
    screen.standin = messages
    screen.prompt_shown = lambda: prompt
    return screen, out


def test_a_late_message_clears_the_prompt_line_and_puts_the_prompt_back() -> None:
    screen, out = _terminal_screen(Messages(APPROVAL), "alice@#infra> ")
    screen.refresh()
    written = out.getvalue()
    assert written.startswith("\r\x1b[K")  # not printed after `alice@#infra> `
    assert "Approve" in written
    assert written.endswith("alice@#infra> ")  # the prompt is the last thing again
    assert written.count("\r\x1b[K") == 1  # once per batch, not once per line


def test_without_a_prompt_nothing_is_cleared_or_redrawn() -> None:
    screen, out = _terminal_screen(Messages(APPROVAL), None)
    screen.refresh()
    written = out.getvalue()
    assert "\x1b[K" not in written
    assert not written.endswith("> ")


def test_an_edit_under_a_prompt_is_printed_again_not_redrawn_over_the_prompt() -> None:
    messages = Messages(APPROVAL)
    screen, out = _terminal_screen(messages, "  submit? [Y/n, or click N] ")
    screen.busy = True  # a modal's field prompt: a command runs, and a prompt is on screen
    screen.refresh()
    messages.messages = [dict(APPROVAL, blocks=[APPROVAL["blocks"][0]])]
    screen.refresh()
    assert "(edited)" in out.getvalue()
    assert "(updated in place)" not in out.getvalue()
    assert not re.search(r"\x1b\[\d+F", out.getvalue())  # no cursor-up over the prompt


# -- keys typed while a command runs -------------------------------------------------------


def _echo_on(fd: int) -> bool:
    import termios

    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def test_typing_is_not_echoed_while_a_command_runs_and_echo_comes_back() -> None:
    pty = pytest.importorskip("pty")
    pytest.importorskip("readline")  # the console hides keys only when readline shows them
    main, secondary = pty.openpty()
    with open(secondary, "rb", buffering=0, closefd=False) as terminal:
        assert _echo_on(secondary)
        with typing_hidden(True, terminal):
            assert not _echo_on(secondary)
        assert _echo_on(secondary)
        with pytest.raises(KeyboardInterrupt), typing_hidden(True, terminal):
            raise KeyboardInterrupt  # Ctrl-C in the middle of a command
        assert _echo_on(secondary)
        with typing_hidden(False, terminal):  # a script on stdin: nothing to hide
            assert _echo_on(secondary)
    os.close(main)
    os.close(secondary)


def test_a_stdin_that_is_not_a_terminal_is_left_alone() -> None:
    with typing_hidden(True, io.StringIO()):
        pass  # no fileno, no termios: nothing raised


def test_wait_for_text_does_not_find_the_echo_of_its_own_command() -> None:
    """A script's lines are echoed; `wait for ssh rocky@` must wait for the bot, not itself."""
    screen = Screen(color=False)
    screen.mark()
    screen.say("alice@#infra> wait for ssh rocky@", "dim", typed=True)
    assert not screen.wait_for_text("ssh rocky@", timeout=0.3)
    screen.say("  Log in   `ssh rocky@10.0.2.2`")
    assert screen.wait_for_text("ssh rocky@", timeout=0.3)


def test_wait_for_text_finds_words_across_a_wrapped_line() -> None:
    screen = Screen(color=False)
    screen.mark()
    screen.say("  ✅ Creating web-1 (VMID 500) from rocky9-template: VM web-1 is\n  ready.")
    assert screen.wait_for_text("VM web-1 is ready", timeout=0.3)
    assert not screen.wait_for_text("VM web-2 is ready", timeout=0.3)
