"""The stand-in answered through the real slack_sdk WebClient (and raw HTTP where needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from solti.sandbox.slack import SlackStandIn

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Create VM"},
    "blocks": BLOCKS,
}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.add_user("U0ALICE", "alice", "Alice Liddell")
        slack.add_channel("C0INFRA", "infra", ["U0ALICE"])
        slack.add_usergroup("S0APPROVERS", "approvers", ["U0BOB", "U0CAROL"])
        yield slack


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.url)


def _error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return exc.value.response["error"]


def test_auth_test_identifies_the_bot_and_checks_the_token(standin: SlackStandIn) -> None:
    assert standin.url.endswith("/api/")
    ok = WebClient(token="xoxb-test", base_url=standin.url).auth_test()
    assert ok["user_id"] == "U0BOT" and ok["team_id"] == "T0001"
    with pytest.raises(SlackApiError) as bad:
        WebClient(token="xoxp-user", base_url=standin.url).auth_test()
    assert _error(bad) == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=standin.url).auth_test()
    assert _error(missing) == "not_authed"


def test_unknown_method_like_slack(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.frobnicate")
    assert _error(exc) == "unknown_method"


def test_post_update_delete_and_channel_names(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="#infra", text="hello", blocks=BLOCKS)
    assert posted["channel"] == "C0INFRA" and posted["message"]["text"] == "hello"
    assert posted["message"]["blocks"][0]["block_id"]  # Slack fills in missing ids
    client.chat_update(channel="C0INFRA", ts=posted["ts"], text="bye")
    assert standin.last_message("C0INFRA")["text"] == "bye"
    assert standin.last_message("C0INFRA")["blocks"][0]["text"]["text"] == "*hi*"  # kept
    client.chat_delete(channel="C0INFRA", ts=posted["ts"])
    assert standin.messages("C0INFRA") == []
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0INFRA", ts=posted["ts"], text="again")
    assert _error(exc) == "message_not_found"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_dm_by_user_id_and_no_text(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U0ALICE", text="your build was approved")
    assert posted["channel"].startswith("D")
    assert standin.last_message("U0ALICE")["text"] == "your build was approved"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0INFRA")
    assert _error(exc) == "no_text"


def test_text_length_limit(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0INFRA", text="x" * 40_001)
    assert _error(exc) == "msg_too_long"


def test_more_than_50_blocks_is_invalid_blocks(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0INFRA", text="t", blocks=BLOCKS * 51)
    assert _error(exc) == "invalid_blocks"
    assert any("at most 50 blocks" in e for e in exc.value.response["errors"])


def test_ephemeral_is_per_user(standin: SlackStandIn, client: WebClient) -> None:
    reply = client.chat_postEphemeral(channel="C0INFRA", user="U0ALICE", text="only you")
    assert reply["message_ts"]
    assert [e["text"] for e in standin.ephemerals("U0ALICE")] == ["only you"]
    assert standin.messages("C0INFRA") == []
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel="C0INFRA", user="U0NOBODY", text="x")
    assert _error(exc) == "user_not_found"


def test_users_groups_and_conversations(client: WebClient) -> None:
    assert client.users_info(user="U0ALICE")["user"]["real_name"] == "Alice Liddell"
    assert client.usergroups_users_list(usergroup="S0APPROVERS")["users"] == ["U0BOB", "U0CAROL"]
    assert client.conversations_info(channel="C0INFRA")["channel"]["name"] == "infra"
    assert client.conversations_members(channel="C0INFRA")["members"] == ["U0ALICE", "U0BOT"]
    with pytest.raises(SlackApiError) as exc:
        client.usergroups_users_list(usergroup="S0NONE")
    assert _error(exc) == "no_such_subteam"


def test_views_need_a_fresh_trigger(standin: SlackStandIn, client: WebClient) -> None:
    trigger = standin.issue_trigger("U0ALICE")
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert opened["state"] == {"values": {}}
    for trigger_id, code in ((trigger, "exchanged_trigger_id"), ("1.2.x", "invalid_trigger_id")):
        with pytest.raises(SlackApiError) as exc:
            client.views_open(trigger_id=trigger_id, view=MODAL)
        assert _error(exc) == code
    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view={**MODAL, "callback_id": "next"}
    )["view"]
    assert updated["callback_id"] == "next" and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert _error(exc) == "hash_conflict"
    pushed = client.views_push(trigger_id=standin.issue_trigger("U0ALICE"), view=MODAL)["view"]
    assert pushed["previous_view_id"] == opened["id"]
    assert [v["id"] for v in standin.open_views("U0ALICE")] == [opened["id"], pushed["id"]]


def test_expired_trigger(standin: SlackStandIn) -> None:
    standin.state.trigger_ttl = 0.0
    client = WebClient(token="xoxb-test", base_url=standin.url)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=standin.issue_trigger("U0ALICE"), view=MODAL)
    assert _error(exc) == "expired_trigger_id"


def test_invalid_view_is_refused(standin: SlackStandIn, client: WebClient) -> None:
    view = {**MODAL, "title": {"type": "plain_text", "text": "A title that is far too long"}}
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=standin.issue_trigger("U0ALICE"), view=view)
    assert _error(exc) == "invalid_arguments"
    assert any("/view/title/text" in e for e in exc.value.response["errors"])
    assert standin.open_views() == []


def test_rate_limit_next_answers_429_once(standin: SlackStandIn, client: WebClient) -> None:
    standin.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0INFRA", text="x")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel="C0INFRA", text="x")["ok"] is True


def test_form_bodies_and_token_in_form(standin: SlackStandIn) -> None:
    reply = requests.post(
        standin.url + "chat.postMessage",
        data={"token": "xoxb-form", "channel": "C0INFRA", "text": "via form"},
        timeout=5,
    )
    assert reply.json()["ok"] is True
    call = standin.calls_to("chat.postMessage")[0]
    assert call.params == {"channel": "C0INFRA", "text": "via form"}  # no token kept


def test_response_url_in_channel_ephemeral_and_use_limit(standin: SlackStandIn) -> None:
    url = standin.response_url("k1", channel="C0INFRA", user="U0ALICE")
    assert requests.post(url, json={"text": "eph"}, timeout=5).status_code == 200
    post = requests.post(url, json={"text": "all", "response_type": "in_channel"}, timeout=5)
    assert post.status_code == 200
    assert [e["text"] for e in standin.ephemerals("U0ALICE")] == ["eph"]
    assert standin.last_message("C0INFRA")["text"] == "all"
    for _ in range(3):
        requests.post(url, json={"text": "again"}, timeout=5)
    spent = requests.post(url, json={"text": "sixth"}, timeout=5)
    assert spent.status_code == 404 and spent.text == "used_url"
    bad = requests.post(url.replace("k1", "zz"), json={"text": "x"}, timeout=5)
    assert bad.status_code == 404
    assert len(standin.response_posts) == 7


def test_reset_keeps_the_workspace(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0INFRA", text="x")
    standin.reset()
    assert standin.messages("C0INFRA") == [] and standin.calls == []
    assert client.users_info(user="U0ALICE")["ok"] is True


def test_wait_for_times_out_with_a_hint(standin: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(TimeoutError, match=r"auth\.test"):
        standin.wait_for(lambda: standin.last_message("C0INFRA"), timeout=0.2)
