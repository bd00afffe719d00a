"""The user agent drives a real Bolt app over HTTP; the stand-in records what it does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_tinybot import SECRET, build_app, serve

from solti.sandbox.slack import SlackStandIn, SlackUser, SubmitBlocked


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.add_user("U0ALICE", "alice")
        slack.add_user("U0BOB", "bob")
        slack.add_channel("C0INFRA", "infra", ["U0ALICE", "U0BOB"])
        yield slack


@pytest.fixture
def seen() -> dict[str, list[Any]]:
    return {}


@pytest.fixture
def alice(standin: SlackStandIn, seen: dict[str, list[Any]]) -> Iterator[SlackUser]:
    app = build_app(standin.url, seen)
    with serve(app) as url:
        yield SlackUser(url, SECRET, standin, user_id="U0ALICE", channel_id="C0INFRA")
    assert not standin.ack_timeouts, "the app acknowledged too late for Slack"


def test_slash_command_is_signed_acked_and_its_post_recorded(
    standin: SlackStandIn, alice: SlackUser
) -> None:
    reply = alice.slash("approve-me")
    assert reply.status_code == 200
    message = standin.wait_for(lambda: standin.last_message("C0INFRA"))
    assert message["blocks"][2]["elements"][0]["action_id"] == "approve"
    # The stand-in stores the message before it records the call: wait for the record too.
    call = standin.wait_for(lambda: standin.calls_to("chat.postMessage"))[0]
    assert call.params["channel"] == "C0INFRA"
    assert call.headers["Authorization"] == "<redacted>"
    assert "xoxb-tiny" not in repr(standin.calls)


def test_click_sends_block_actions_and_respond_replaces_the_message(
    standin: SlackStandIn, alice: SlackUser, seen: dict[str, list[Any]]
) -> None:
    alice.slash("approve-me")
    message = standin.wait_for(lambda: standin.last_message("C0INFRA"))
    reply = alice.as_user("U0BOB").click(message, "approve")
    assert reply.status_code == 200
    standin.wait_for(lambda: "Approved" in standin.last_message("C0INFRA")["text"])
    body = seen["actions"][0]
    assert body["type"] == "block_actions"
    assert body["user"]["id"] == "U0BOB" and body["user"]["username"] == "bob"
    assert body["container"] == {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": "C0INFRA",
        "is_ephemeral": False,
    }
    assert body["actions"][0]["value"] == "req-42"
    assert body["actions"][0]["block_id"] == "approval"
    assert body["message"]["ts"] == message["ts"]
    revisions = standin.revisions("C0INFRA", message["ts"])
    assert [r["text"] for r in revisions] == ["approval", "Approved by <@U0BOB>"]
    assert standin.response_posts[0].body["replace_original"] is True


def test_click_by_number_and_delete_original(standin: SlackStandIn, alice: SlackUser) -> None:
    alice.slash("approve-me")
    message = standin.wait_for(lambda: standin.last_message("C0INFRA"))
    assert alice.click(message, 2).status_code == 200  # 2 = Deny
    standin.wait_for(lambda: standin.last_message("C0INFRA") is None)
    with pytest.raises(LookupError):
        alice.click(message, 3)


def test_progress_edits_kept_in_order_and_thread_reply_apart(
    standin: SlackStandIn, alice: SlackUser
) -> None:
    alice.slash("progress")
    standin.wait_for(lambda: standin.calls_to("chat.postMessage")[1:])
    message = standin.last_message("C0INFRA")
    assert message["text"] == "Creating VM: 3/3 start" and "edited" in message
    texts = [r["text"] for r in standin.revisions("C0INFRA", message["ts"])]
    assert texts == ["Creating VM: 1/3 clone", "Creating VM: 2/3 resize", "Creating VM: 3/3 start"]
    replies = standin.messages("C0INFRA", thread_ts=message["ts"])
    assert [r["text"] for r in replies] == ["task ids"]
    assert len(standin.messages("C0INFRA")) == 1


def test_unknown_text_goes_back_ephemeral_through_response_url(
    standin: SlackStandIn, alice: SlackUser
) -> None:
    alice.slash("frobnicate")
    ephemeral = standin.wait_for(lambda: standin.ephemerals("U0ALICE"))
    assert ephemeral[0]["text"] == "Unknown command: frobnicate"
    assert standin.messages("C0INFRA") == []


def test_invalid_blocks_are_refused_like_slack(
    standin: SlackStandIn, alice: SlackUser, seen: dict[str, list[Any]]
) -> None:
    alice.slash("bad-blocks")
    standin.wait_for(lambda: seen.get("errors"))
    data = seen["errors"][0]
    assert data["ok"] is False and data["error"] == "invalid_blocks"
    assert any("/blocks/0" in e for e in data["errors"])


def test_modal_open_field_errors_and_submission(
    standin: SlackStandIn, alice: SlackUser, seen: dict[str, list[Any]]
) -> None:
    alice.slash("modal")
    view = standin.wait_for(lambda: standin.open_views("U0ALICE"))[-1]
    assert view["callback_id"] == "vm_create" and view["id"].startswith("V")

    with pytest.raises(SubmitBlocked) as blocked:
        alice.submit_view(view, {"template": "rocky9"})
    assert set(blocked.value.errors) == {"name"}

    reply = alice.submit_view(view, {"template": "Rocky 9", "name": "my vm", "disk": "50"})
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"name": "No spaces in a VM name"},
    }
    assert standin.open_views("U0ALICE")  # still open after errors

    reply = alice.submit_view(view["id"], {"template": "rocky9", "name": "web1", "disk": "50"})
    assert reply.status_code == 200
    standin.wait_for(lambda: standin.last_message("C0INFRA"))
    values = seen["submissions"][0]
    assert values["template"]["template"]["selected_option"]["value"] == "rocky9"
    assert values["disk"]["disk_gb"] == {"type": "number_input", "value": "50"}
    assert values["clone"]["mode"]["selected_option"]["value"] == "linked"
    assert values["name"]["name"] == {"type": "plain_text_input", "value": "web1"}
    assert standin.open_views("U0ALICE") == []


@pytest.mark.parametrize("sign", ["bad", "stale", "missing"])
def test_unsigned_or_stale_requests_get_401(
    standin: SlackStandIn, alice: SlackUser, sign: str
) -> None:
    reply = alice.slash("approve-me", sign=sign)
    assert reply.status_code == 401
    assert standin.calls_to("chat.postMessage") == []


def test_a_slash_command_is_never_retried(alice: SlackUser, seen: dict[str, list[Any]]) -> None:
    """Only Events API deliveries are retried (docs.slack.dev/apis/events-api/#retries); a
    slash command not acked in time ends in ``operation_timeout``, never a second POST."""
    with pytest.raises(ValueError, match="never retries a slash_command"):
        alice.slash("frobnicate", retry_num=1)
    assert "retry" not in seen  # nothing reached the app
    alice.slash("frobnicate")
    assert seen["retry"] == [None]  # a first delivery has no retry header


def test_command_ack_bodies_are_shown_as_slack_shows_them(
    standin: SlackStandIn, alice: SlackUser
) -> None:
    assert alice.slash("ack-text").text == "Only you see this"
    assert [e["text"] for e in standin.ephemerals("U0ALICE")] == ["Only you see this"]
    alice.slash("ack-in-channel")
    assert standin.last_message("C0INFRA")["text"] == "Everyone sees this"
