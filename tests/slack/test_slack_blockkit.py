"""Block Kit validation: the vendored schema plus Slack's limits the schema misses."""

from __future__ import annotations

from typing import Any

import pytest

from solti.sandbox.slack.blockkit import interactive_elements, validate_blocks, validate_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def button(text: str, action_id: str, value: str = "v") -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, "value": value}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


GOOD_MESSAGE = [
    {"type": "header", "text": plain("VM 501 ready")},
    {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": "*Node*\npve1"}, {"type": "mrkdwn", "text": "x"}],
    },
    {"type": "divider"},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "template v2024.06"}]},
    {"type": "actions", "block_id": "a", "elements": [button("Approve", "ok"), button("No", "no")]},
]


def test_a_well_formed_message_passes() -> None:
    assert validate_blocks(GOOD_MESSAGE) == []


def test_a_well_formed_modal_passes() -> None:
    view = {
        "type": "modal",
        "callback_id": "vm_create",
        "title": plain("Create VM"),
        "submit": plain("Create"),
        "close": plain("Cancel"),
        "private_metadata": "{}",
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": plain("Name"),
                "element": {"type": "plain_text_input", "action_id": "name"},
            }
        ],
    }
    assert validate_view(view) == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "/blocks/0/fields",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "/blocks/0/fields/0/text",
        ),
        ([{"type": "actions", "elements": [button("b" * 76, "a")]}], "/blocks/0/elements/0/text"),
        (
            [{"type": "actions", "elements": [button("b", "a" * 256)]}],
            "/blocks/0/elements/0/action_id",
        ),
        (
            [{"type": "actions", "elements": [button("b", "a", "v" * 2001)]}],
            "/blocks/0/elements/0/value",
        ),
        (
            [{"type": "actions", "elements": [button("b", f"a{i}") for i in range(26)]}],
            "/blocks/0/elements",
        ),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "/blocks/0/elements",
        ),
        ([{**section("a"), "block_id": "same"}, {**section("b"), "block_id": "same"}], "/1/"),
        ([{**section("a"), "block_id": "b" * 256}], "/blocks/0/block_id"),
        ([{"type": "actions", "elements": [button("b", "x"), button("c", "x")]}], "/elements/1"),
        ([section("ok")] * 51, "at most 50 blocks"),
        ([{"type": "no_such_block"}], "/blocks/0"),
        ([], "at least 1"),
    ],
)
def test_each_limit_is_reported_with_where(blocks: list[Any], expected: str) -> None:
    errors = validate_blocks(blocks)
    assert errors, "expected an error"
    assert any(expected in e for e in errors), errors


def test_a_modal_may_have_100_blocks_but_not_101() -> None:
    view = {"type": "modal", "title": plain("T"), "blocks": [section("x")] * 100}
    assert validate_view(view) == []
    assert validate_view({**view, "blocks": [section("x")] * 101})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": plain("t" * 25)}, "/view/title/text"),
        ({"submit": plain("s" * 25)}, "/view/submit/text"),
        ({"close": plain("c" * 25)}, "/view/close/text"),
        ({"title": {"type": "mrkdwn", "text": "T"}}, "/view/title"),
        ({"callback_id": "c" * 256}, "/view/callback_id"),
        ({"private_metadata": "p" * 3001}, "/view/private_metadata"),
        ({"type": "dialog"}, "/view/type"),
        ({"id": "V123"}, "/view"),
    ],
)
def test_view_limits(change: dict[str, Any], expected: str) -> None:
    view = {"type": "modal", "title": plain("T"), "blocks": [section("x")], **change}
    errors = validate_view(view)
    assert any(expected in e for e in errors), errors


def test_input_needs_submit() -> None:
    view = {
        "type": "modal",
        "title": plain("T"),
        "blocks": [
            {
                "type": "input",
                "label": plain("L"),
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }
    assert any("submit" in e for e in validate_view(view))


def test_interactive_elements_follow_reading_order() -> None:
    blocks = [
        {**section("pick"), "accessory": button("Details", "details")},
        {"type": "actions", "elements": [button("Approve", "ok"), button("Deny", "no")]},
        {"type": "input", "label": plain("x"), "element": {"type": "plain_text_input"}},
    ]
    ids = [element["action_id"] for _, element in interactive_elements(blocks)]
    assert ids == ["details", "ok", "no"]


def test_identical_payloads_are_validated_once_and_changes_are_seen() -> None:
    from solti.sandbox.slack.blockkit import _schema_errors_memo

    _schema_errors_memo.cache_clear()
    good = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    assert validate_blocks(good) == []
    assert validate_blocks([dict(good[0])]) == []  # same JSON, another object
    info = _schema_errors_memo.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    # The same object changed in place is new JSON: validated again, and the error is found.
    good[0]["text"]["type"] = "bogus"
    errors = validate_blocks(good)
    assert errors and "/blocks/0/text" in errors[0]
    assert _schema_errors_memo.cache_info().misses == 2
