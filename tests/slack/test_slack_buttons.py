"""Block actions as Slack sends them: a button's `confirm` echoed, `container.thread_ts` for a
click in a thread, and Socket Mode's `accepts_response_payload` per payload kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from capture_app import capture_app

from solti.sandbox.slack import SlackStandIn, SlackUser
from solti.sandbox.slack.socket_mode import accepts_payload

CONFIRM = {
    "title": {"type": "plain_text", "text": "Remove?"},
    "text": {"type": "plain_text", "text": "This deletes the VM."},
    "confirm": {"type": "plain_text", "text": "Remove"},
    "deny": {"type": "plain_text", "text": "Keep"},
}


def _buttons() -> list[dict[str, Any]]:
    button = {"type": "button", "text": {"type": "plain_text", "text": "Remove"}}
    return [
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {**button, "action_id": "remove", "value": "512", "confirm": CONFIRM},
                {**button, "action_id": "plain", "value": "1"},
            ],
        }
    ]


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.add_user("U0ALICE", "alice")
        slack.add_channel("C0INFRA", "infra", ["U0ALICE"])
        yield slack


def test_a_button_with_confirm_is_echoed_with_it(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/interaction-payloads/block_actions-payload (the
    `actions` entry repeats the element, its `confirm` dialog included)."""
    message = {**standin.state.post_message("C0INFRA", {"text": "t", "blocks": _buttons()})}
    with capture_app() as (url, received):
        user = SlackUser(url, "s", standin)
        user.click({**message, "channel": "C0INFRA"}, "remove")
        user.click({**message, "channel": "C0INFRA"}, "plain")
    assert received[0]["actions"][0]["confirm"] == CONFIRM
    assert "confirm" not in received[1]["actions"][0]


def test_a_click_in_a_thread_names_the_thread(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
    (`container` of a message in a thread carries `thread_ts`)."""
    parent = standin.state.post_message("C0INFRA", {"text": "progress"})
    reply = standin.state.post_message(
        "C0INFRA", {"text": "t", "blocks": _buttons(), "thread_ts": parent["ts"]}
    )
    top = standin.state.post_message("C0INFRA", {"text": "t", "blocks": _buttons()})
    with capture_app() as (url, received):
        user = SlackUser(url, "s", standin)
        user.click({**reply, "channel": "C0INFRA"}, "plain")
        user.click({**top, "channel": "C0INFRA"}, "plain")
    assert received[0]["container"]["thread_ts"] == parent["ts"]
    assert "thread_ts" not in received[1]["container"]


@pytest.mark.parametrize(
    ("envelope", "payload", "accepts"),
    [
        ("slash_commands", {"command": "/solti"}, True),
        ("interactive", {"type": "view_submission"}, True),
        ("interactive", {"type": "block_suggestion"}, True),
        ("interactive", {"type": "block_actions"}, False),
        ("interactive", {"type": "shortcut"}, False),
        ("interactive", {"type": "message_action"}, False),
        ("events_api", {"type": "event_callback"}, False),
    ],
)
def test_socket_mode_accepts_response_payload_per_kind(
    envelope: str, payload: dict[str, Any], accepts: bool
) -> None:
    """https://docs.slack.dev/apis/events-api/using-socket-mode: only envelopes whose ack can
    carry a response (slash commands, view submissions, options) say
    `accepts_response_payload: true`."""
    assert accepts_payload(envelope, payload) is accepts
