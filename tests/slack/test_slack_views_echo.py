"""Views as Slack echoes them in payloads, and `state.values` of every input element kind.

https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload (the echoed
`view`: `app_installed_team_id`, `close`/`submit` null when absent, input blocks with
`optional` and `dispatch_action` spelled out) and
https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission
(`state.values` per element: timepicker `timezone`, datetimepicker `selected_date_time`,
rich_text_input `rich_text_value`, file_input `files`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from solti.sandbox.slack import SlackStandIn
from solti.sandbox.slack.viewstate import build_state


def _input(block_id: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": block_id},
        "element": {"action_id": block_id, **element},
        **extra,
    }


VIEW = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Form"},
    "blocks": [
        _input("name", {"type": "plain_text_input"}),
        _input("note", {"type": "plain_text_input"}, optional=True, dispatch_action=True),
    ],
}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack


def test_an_opened_view_is_echoed_with_slacks_defaults(standin: SlackStandIn) -> None:
    view = standin.state.open_view(VIEW, "U0ALICE")
    assert view["close"] is None and view["submit"] is None
    assert view["app_installed_team_id"] == view["team_id"]
    name, note = view["blocks"]
    assert (name["optional"], name["dispatch_action"]) == (False, False)
    assert (note["optional"], note["dispatch_action"]) == (True, True)  # given values kept


def test_an_updated_view_is_echoed_the_same_way(standin: SlackStandIn) -> None:
    view = standin.state.open_view(VIEW, "U0ALICE")
    submit = {"type": "plain_text", "text": "Go"}
    updated = standin.state.update_view({**VIEW, "submit": submit}, view["id"], None, None)
    assert updated["submit"] == submit and updated["close"] is None
    assert updated["blocks"][0]["optional"] is False


def test_state_values_of_every_input_kind() -> None:
    view = {
        "blocks": [
            _input("at", {"type": "timepicker", "timezone": "Europe/Paris"}),
            _input("local", {"type": "timepicker"}),
            _input("when", {"type": "datetimepicker"}),
            _input("notes", {"type": "rich_text_input"}),
            _input("files", {"type": "file_input"}),
            _input("mail", {"type": "email_text_input"}),
            _input("site", {"type": "url_text_input"}),
        ]
    }
    state = build_state(
        view,
        {
            "at": "09:30",
            "local": "10:00",
            "when": 1767225600,
            "notes": "hello",
            "files": [{"id": "F0001", "name": "a.txt"}],
            "mail": "a@example.com",
            "site": "https://example.com",
        },
    )
    assert state["at"]["at"] == {
        "type": "timepicker",
        "selected_time": "09:30",
        "timezone": "Europe/Paris",
    }
    assert state["local"]["local"]["timezone"] is None
    assert state["when"]["when"] == {"type": "datetimepicker", "selected_date_time": 1767225600}
    assert state["notes"]["notes"]["rich_text_value"] == {
        "type": "rich_text",
        "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "hello"}]}
        ],
    }
    assert state["files"]["files"] == {
        "type": "file_input",
        "files": [{"id": "F0001", "name": "a.txt"}],
    }
    assert state["mail"]["mail"] == {"type": "email_text_input", "value": "a@example.com"}
    assert state["site"]["site"]["value"] == "https://example.com"
