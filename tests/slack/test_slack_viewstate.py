"""view.state.values as Slack's client builds them, and what it refuses to submit."""

from __future__ import annotations

from typing import Any

import pytest

from solti.sandbox.slack.viewstate import SubmitBlocked, build_state


def opt(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def block(block_id: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": block_id},
        "element": {"action_id": block_id, **element},
    }


VIEW = {
    "blocks": [
        block("name", {"type": "plain_text_input", "max_length": 10}),
        block("cores", {"type": "number_input", "is_decimal_allowed": False, "max_value": "8"}),
        block("tpl", {"type": "static_select", "options": [opt("Rocky 9", "rocky9")]}),
        block("keys", {"type": "checkboxes", "options": [opt("A", "a"), opt("B", "b")]}, True),
        block("mode", {"type": "radio_buttons", "options": [opt("Full", "full")]}, True),
        block("when", {"type": "datepicker"}, True),
    ]
}


def test_shapes_per_element_type() -> None:
    state = build_state(VIEW, {"name": "web1", "cores": 2, "tpl": "Rocky 9", "keys": ["a", "B"]})
    assert state["name"] == {"name": {"type": "plain_text_input", "value": "web1"}}
    assert state["cores"] == {"cores": {"type": "number_input", "value": "2"}}
    assert state["tpl"]["tpl"]["selected_option"] == opt("Rocky 9", "rocky9")
    assert [o["value"] for o in state["keys"]["keys"]["selected_options"]] == ["a", "b"]
    assert state["mode"]["mode"] == {"type": "radio_buttons", "selected_option": None}
    assert state["when"]["when"] == {"type": "datepicker", "selected_date": None}


def test_client_side_refusals() -> None:
    with pytest.raises(SubmitBlocked) as exc:
        build_state(VIEW, {"name": "x" * 11, "cores": "2.5"})
    assert set(exc.value.errors) == {"name", "cores", "tpl"}
    assert "whole number" in exc.value.errors["cores"]
    with pytest.raises(SubmitBlocked) as exc:
        build_state(VIEW, {"name": "a", "cores": "9", "tpl": "rocky9"})
    assert exc.value.errors == {"cores": "must be at most 8"}


def test_unknown_block_or_option_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        build_state(VIEW, {"nope": "x"})
    with pytest.raises(LookupError):
        build_state(VIEW, {"name": "a", "cores": "1", "tpl": "debian12"})
