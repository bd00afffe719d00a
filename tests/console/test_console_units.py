"""Console pieces without the world: mentions as Slack sends them, the renderer's wrapping and
names, and a button inside a modal clicked while it is being filled."""

from __future__ import annotations

from typing import Any

from solti.sandbox.console import Command, escape_mentions, parse_command
from solti.sandbox.console_walk import walk_views
from solti.sandbox.render import Rendered, mrkdwn, render_message, render_view


def test_modal_is_a_console_command() -> None:
    assert parse_command("modal") == Command("modal")


def test_mentions_and_channels_are_escaped_as_slack_does() -> None:
    assert escape_mentions("audit --user @bob") == "audit --user <@U0BOB|bob>"
    assert escape_mentions("see #approvals") == "see <#C0APPROVALS|approvals>"
    # not a mention: unknown people, e-mail-like text inside a word, SSH key comments
    assert escape_mentions("audit --user @dave") == "audit --user @dave"
    key = "key set ssh-ed25519 AAAAC3Nza me@bob"
    assert escape_mentions(key) == key


def test_channel_mentions_without_a_label_use_the_lookup() -> None:
    names = {"C0APPROVALS": "approvals", "U0BOB": "bob"}
    assert (
        mrkdwn("waiting in <#C0APPROVALS> for <@U0BOB>", names) == "waiting in #approvals for @bob"
    )


def test_long_context_lines_are_wrapped_and_emoji_shown() -> None:
    words = " · ".join(f"`/solti vm create {n}`" for n in range(12))
    message = {
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Examples: " + words}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": ":mag: :grey_question:"}},
        ]
    }
    rendered = render_message(message)
    assert all(len(line) <= 78 for line in rendered.text.split("\n"))
    assert "🔍 ❔" in rendered.text


class FakeState:
    def __init__(self, view: dict[str, Any]) -> None:
        self.views = {view["id"]: view}
        self.version = 0

    def view(self, view_id: str) -> dict[str, Any]:
        return self.views[view_id]


class FakeStandIn:
    def __init__(self, view: dict[str, Any]) -> None:
        self.state = FakeState(view)
        self.open = [view]

    def open_views(self, user: str | None = None) -> list[dict[str, Any]]:
        return list(self.open)


class Reply:
    status_code = 200
    content = b""


class FakeAgent:
    user_id = "U0ALICE"

    def __init__(self, standin: FakeStandIn) -> None:
        self.standin = standin
        self.clicks: list[tuple[str, int]] = []
        self.closed: list[str] = []

    def click(self, target: dict[str, Any], index: int, option: str | None = None) -> Reply:
        self.clicks.append((target["id"], index))
        return Reply()

    def close_view(self, view_id: str) -> None:
        self.closed.append(view_id)
        self.standin.open = []


class FakeScreen:
    def __init__(self) -> None:
        self.out: list[str] = []

    def say(self, text: str, style: str = "text") -> None:
        self.out.append(text)

    def show_view(self, view: dict[str, Any], errors: Any, values: Any) -> Rendered:
        rendered = render_view(view, errors=errors, values=values)
        self.out.append(rendered.text)
        return rendered

    def settle(self, quiet: float, limit: float) -> None:
        pass


class Script:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def read(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        return self.answers.pop(0) if self.answers else None


MODAL = {
    "id": "V1",
    "root_view_id": "V1",
    "type": "modal",
    "title": {"type": "plain_text", "text": "Pick"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "name"},
        },
        {
            "type": "actions",
            "block_id": "more",
            "elements": [
                {
                    "type": "button",
                    "action_id": "add_disk",
                    "text": {"type": "plain_text", "text": "Add a disk"},
                }
            ],
        },
    ],
}


def test_a_button_inside_an_open_modal_can_be_clicked() -> None:
    standin = FakeStandIn(MODAL)
    agent = FakeAgent(standin)
    screen = FakeScreen()
    walk_views(standin, agent, MODAL, screen, Script("click 1", "cancel"))
    assert "[1 Add a disk]" in "\n".join(screen.out)
    assert agent.clicks == [("V1", 1)]
    assert agent.closed == ["V1"]  # then cancelled


def test_a_wrong_button_number_in_a_modal_is_explained() -> None:
    standin = FakeStandIn(MODAL)
    agent = FakeAgent(standin)
    screen = FakeScreen()
    walk_views(standin, agent, MODAL, screen, Script("x", "click 7", "cancel"))
    assert agent.clicks == []
    assert any("no button 7 in this modal (it has 1-1)" in line for line in screen.out)


class SubmittingAgent(FakeAgent):
    """Records what the walk submits; the bot's answer is an empty 200 (the form closes)."""

    def __init__(self, standin: FakeStandIn) -> None:
        super().__init__(standin)
        self.submitted: list[dict[str, Any]] = []

    def submit_view(self, view_id: str, values: dict[str, Any]) -> Reply:
        self.submitted.append(dict(values))
        return Reply()


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


TEMPLATES = {
    "id": "V2",
    "root_view_id": "V2",
    "type": "modal",
    "title": {"type": "plain_text", "text": "Create a VM"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "template",
            "label": {"type": "plain_text", "text": "Template"},
            "element": {
                "type": "static_select",
                "action_id": "template",
                "options": [
                    _option("rocky9 · 9.7-20251201 (VMID 9002)", "9002"),
                    _option("debian12 · 20251120 (VMID 9001)", "9001"),
                    _option("rocky9 · 9.6-20250601 (VMID 9000) · older build", "9000"),
                ],
            },
        }
    ],
}


def test_template_choices_are_numbered_texts_and_a_prefix_picks_the_first() -> None:
    standin = FakeStandIn(TEMPLATES)
    agent = SubmittingAgent(standin)
    screen = FakeScreen()
    walk_views(standin, agent, TEMPLATES, screen, Script("rocky9", "y"))
    assert "    1) rocky9 · 9.7-20251201 (VMID 9002)" in screen.out
    assert "    3) rocky9 · 9.6-20250601 (VMID 9000) · older build" in screen.out
    assert not any("9002 =" in line for line in screen.out)  # the VMID is said once
    assert agent.submitted == [{"template": "9002"}]  # the latest build, listed first


def test_a_number_or_an_unknown_start_of_a_choice() -> None:
    standin = FakeStandIn(TEMPLATES)
    agent = SubmittingAgent(standin)
    screen = FakeScreen()
    walk_views(standin, agent, TEMPLATES, screen, Script("ubuntu", "3", "y"))
    assert any("no option ubuntu" in line for line in screen.out)
    assert agent.submitted == [{"template": "9000"}]
