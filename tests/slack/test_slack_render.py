"""Block Kit -> terminal text: specific substrings and the click numbering."""

from __future__ import annotations

from typing import Any

from slack_tinybot import APPROVAL_BLOCKS, MODAL

from solti.sandbox.render import mrkdwn, render_message, render_view

USERS = {"U0ALICE": "alice"}


def test_mrkdwn_is_lightly_converted() -> None:
    text = "*Bold* _it_ ~gone~ `code` <https://pve.example/x|console> <@U0ALICE> <@U0ZED> &lt;3"
    assert (
        mrkdwn(text, USERS)
        == "Bold it gone `code` console (https://pve.example/x) @alice @U0ZED <3"
    )
    assert mrkdwn("<#C0INFRA|infra> <!here> <!subteam^S01|@approvers>") == "#infra @here @approvers"
    assert mrkdwn("5 * 3 * 2") == "5 * 3 * 2"


def test_message_with_header_fields_and_numbered_buttons() -> None:
    rendered = render_message({"blocks": APPROVAL_BLOCKS}, start=3, users=USERS)
    assert "== Template build requested ==" in rendered.text
    fields_line = next(line for _, line in rendered.lines if line.startswith("Distribution"))
    assert fields_line.split() == ["Distribution", "Requested", "by"]  # two columns, one row
    assert "@alice" in rendered.text
    assert "[3 Approve] [4 Deny]" in rendered.text
    assert {n: (c.action_id, c.index) for n, c in rendered.actions.items()} == {
        3: ("approve", 1),
        4: ("deny", 2),
    }


def test_context_divider_image_and_selects() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "template _v2_"}]},
        {"type": "divider"},
        {"type": "image", "image_url": "https://x/i.png", "alt_text": "usage graph"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Pick a node"},
            "accessory": {
                "type": "static_select",
                "action_id": "node",
                "placeholder": {"type": "plain_text", "text": "Node"},
                "options": [
                    {"text": {"type": "plain_text", "text": "pve1"}, "value": "pve1"},
                    {"text": {"type": "plain_text", "text": "pve2"}, "value": "pve2"},
                ],
            },
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "remove",
                    "text": {"type": "plain_text", "text": "Remove"},
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "plain_text", "text": "Remove VM 501"},
                        "confirm": {"type": "plain_text", "text": "Yes"},
                        "deny": {"type": "plain_text", "text": "No"},
                    },
                }
            ],
        },
    ]
    rendered = render_message({"blocks": blocks})
    styles = dict((line, style) for style, line in rendered.lines)
    assert styles["template v2"] == "dim"
    assert "-" * 40 in rendered.text
    assert "[image: usage graph]" in rendered.text
    assert "[1 Node ▾ pve1 | pve2]" in rendered.text
    assert "[2 Remove (confirm)]" in rendered.text
    assert rendered.actions[2].confirm is not None
    assert [o["value"] for o in rendered.actions[1].options] == ["pve1", "pve2"]


def test_text_only_message() -> None:
    assert render_message({"text": "Queued *VM 501*"}).text == "Queued VM 501"


def test_modal_lists_inputs_with_labels_choices_errors_and_values() -> None:
    rendered = render_view(MODAL, errors={"name": "No spaces in a VM name"}, values={"disk": "50"})
    text = rendered.text
    assert text.splitlines()[0] == "[ Create VM ]"
    assert "• Template (static_select, required)" in text
    assert "choose: rocky9 = Rocky 9, debian12 = Debian 12" in text
    assert "• Disk (GB) (number_input, optional)" in text
    assert "current: 50" in text
    assert "current: linked" in text  # initial option shown
    name_at = text.index("• Name")
    assert text.index("! No spaces in a VM name") > name_at
    assert "<Create>" in text
    assert rendered.actions == {}


def test_known_emoji_become_characters_and_others_stay() -> None:
    assert mrkdwn(":white_check_mark: done :unknown_thing:") == "✅ done :unknown_thing:"
