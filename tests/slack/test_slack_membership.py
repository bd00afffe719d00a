"""Where the bot may post: the stand-in answers as Slack does for channels it is not in.

The bot token carries the manifest's scopes (``chat:write``, ``chat:write.public``, no
``channels:join``, no ``im:write``), so the answers below are the ones the real app gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from solti.sandbox.slack import SlackStandIn
from solti.sandbox.slack.slack_records import BOT_SCOPES

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.add_user("U0ALICE", "alice")
        slack.add_user("U0BOB", "bob")
        slack.add_channel("C0INFRA", "infra", ["U0ALICE"])
        slack.add_channel("C0OUTSIDE", "outside", ["U0ALICE"], bot_member=False)
        slack.add_channel("G0SECRET", "secret", ["U0ALICE"], bot_member=False)
        slack.add_channel("G0INVITED", "invited", ["U0ALICE"])
        slack.add_channel("D0ALICEBOB", "directmessage", ["U0ALICE", "U0BOB"], bot_member=False)
        yield slack


def _error(client: WebClient, method: str, **params: str) -> str:
    with pytest.raises(SlackApiError) as exc:
        client.api_call(method, json=params)
    return str(exc.value.response["error"])


def test_the_stand_in_has_the_manifest_scopes() -> None:
    """The token's scopes are the manifest's, so a missing scope shows up in tests.

    https://docs.slack.dev/reference/app-manifest (oauth_config.scopes.bot)
    """
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)


def test_unknown_and_private_channels_are_not_found(standin: SlackStandIn) -> None:
    """An unknown id, a private channel or a DM the bot is not in: `channel_not_found`.

    https://docs.slack.dev/reference/methods/chat.postMessage (Errors: channel_not_found,
    "Value passed for channel was invalid"); private conversations are invisible to non-members.
    """
    client = WebClient(token="xoxb-test", base_url=standin.url)
    assert _error(client, "chat.postMessage", channel="C0NOSUCH", text="x") == "channel_not_found"
    assert _error(client, "chat.postMessage", channel="G0SECRET", text="x") == "channel_not_found"
    assert _error(client, "chat.postMessage", channel="D0ALICEBOB", text="x") == (
        "channel_not_found"
    )
    assert standin.calls_to("chat.postMessage")[-1].response["ok"] is False
    assert "C0NOSUCH" not in standin.state.channels  # nothing is created on the fly
    assert client.chat_postMessage(channel="G0INVITED", text="x")["ok"] is True


def test_public_channels_need_chat_write_public_or_membership() -> None:
    """A public channel the bot has not joined: allowed with `chat:write.public`, else
    `not_in_channel`.

    https://docs.slack.dev/reference/scopes/chat.write.public and
    https://docs.slack.dev/reference/methods/chat.postMessage (Errors: not_in_channel)
    """
    with SlackStandIn(scopes=frozenset({"chat:write", "commands"})) as slack:
        slack.add_channel("C0OUTSIDE", "outside", bot_member=False)
        slack.add_channel("C0INFRA", "infra")
        client = WebClient(token="xoxb-test", base_url=slack.url)
        assert _error(client, "chat.postMessage", channel="C0OUTSIDE", text="x") == (
            "not_in_channel"
        )
        assert client.chat_postMessage(channel="C0INFRA", text="x")["ok"] is True


def test_with_chat_write_public_the_bot_posts_to_public_channels(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/scopes/chat.write.public: "Send messages to channels
    your Slack app isn't a member of"."""
    client = WebClient(token="xoxb-test", base_url=standin.url)
    assert client.chat_postMessage(channel="C0OUTSIDE", text="x")["ok"] is True
    assert client.conversations_info(channel="C0OUTSIDE")["channel"]["is_member"] is False


def test_dms_a_user_id_opens_the_app_dm_but_conversations_open_needs_im_write(
    standin: SlackStandIn,
) -> None:
    """A user id as `channel` posts to the app's DM with that person (its Messages tab);
    `conversations.open` needs `im:write`, which the manifest does not request.

    https://docs.slack.dev/reference/methods/chat.postMessage (channel: "IM channel")
    https://docs.slack.dev/reference/methods/conversations.open (scopes: im:write)
    """
    client = WebClient(token="xoxb-test", base_url=standin.url)
    posted = client.chat_postMessage(channel="U0ALICE", text="your build was approved")
    assert posted["channel"].startswith("D")
    with pytest.raises(SlackApiError) as exc:
        client.conversations_open(users="U0ALICE")
    assert exc.value.response["error"] == "missing_scope"
    assert exc.value.response["needed"] == "im:write"


def test_conversations_join_needs_channels_join(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/methods/conversations.join (scope channels:join)."""
    client = WebClient(token="xoxb-test", base_url=standin.url)
    assert _error(client, "conversations.join", channel="C0OUTSIDE") == "missing_scope"
    with SlackStandIn(scopes=frozenset({"chat:write", "channels:join"})) as slack:
        slack.add_channel("C0OUTSIDE", "outside", bot_member=False)
        joined = WebClient(token="xoxb-test", base_url=slack.url)
        assert joined.conversations_join(channel="C0OUTSIDE")["channel"]["is_member"] is True
        assert joined.chat_postMessage(channel="C0OUTSIDE", text="x")["ok"] is True


def test_ephemerals_go_to_members_only(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/reference/methods/chat.postEphemeral (Errors:
    user_not_in_channel)."""
    client = WebClient(token="xoxb-test", base_url=standin.url)
    assert client.chat_postEphemeral(channel="C0INFRA", user="U0ALICE", text="x")["ok"] is True
    assert _error(client, "chat.postEphemeral", channel="C0INFRA", user="U0BOB", text="x") == (
        "user_not_in_channel"
    )
