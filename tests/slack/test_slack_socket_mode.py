"""Slack's side of Socket Mode in the stand-in: `apps.connections.open` and the websocket.

Driven with slack_sdk's WebClient and the `websockets` client, as an app would: the token
rules of `apps.connections.open`, the URL it gives, `hello` first, single-use tickets, and
acks recorded against the envelope they answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from solti.sandbox.slack import SlackStandIn


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack


def _open(standin: SlackStandIn, token: str | None) -> str:
    return WebClient(base_url=standin.url).apps_connections_open(app_token=token)["url"]


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-bot-token", "not_allowed_token_type"), ("", "not_authed")],
)
def test_apps_connections_open_needs_an_app_token(
    standin: SlackStandIn, token: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as refused:
        _open(standin, token)
    assert refused.value.response["error"] == error
    assert "url" not in refused.value.response.data


def test_the_url_is_a_loopback_websocket_and_hello_comes_first(standin: SlackStandIn) -> None:
    url = _open(standin, "xapp-1-A0789-app-secret")
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/link/\?ticket=[0-9a-f]+&app_id=A\w+", url)
    call = standin.calls_to("apps.connections.open")[-1]
    assert "xapp-1-A0789-app-secret" not in json.dumps([call.params, call.headers])
    with connect(url, open_timeout=5) as socket:
        hello = json.loads(socket.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"].startswith("A")


def test_an_envelope_is_sent_and_its_ack_recorded(standin: SlackStandIn) -> None:
    server = standin.socket_mode
    with connect(_open(standin, "xapp-1-token"), open_timeout=5) as socket:
        socket.recv(timeout=5)  # hello
        server.wait_connected()
        envelope_id = server.send("slash_commands", {"command": "/solti", "text": "help"})
        envelope = json.loads(socket.recv(timeout=5))
        assert envelope == {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "payload": {"command": "/solti", "text": "help"},
            "accepts_response_payload": True,
        }
        socket.send(json.dumps({"envelope_id": envelope_id, "payload": {"text": "hi"}}))
        ack = server.wait_ack(envelope_id)
    assert ack.payload == {"text": "hi"}


def test_a_ticket_is_good_for_one_connection(standin: SlackStandIn) -> None:
    url = _open(standin, "xapp-1-token")
    with connect(url, open_timeout=5) as socket:
        socket.recv(timeout=5)
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=5)
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        connect(standin.socket_mode.url + "?ticket=made-up", open_timeout=5)
