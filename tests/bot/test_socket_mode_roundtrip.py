"""Socket Mode over a real websocket: `solti bot`'s runner against the Slack stand-in.

The runner (``bot.server.socket_mode_handler``) gets its URL from the stand-in's
`apps.connections.open` (``SLACK_API_URL``), connects, takes Slack's `hello`, and acks each
envelope on the socket. Tests push envelopes and wait for the acks; nothing waits on time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from solti.bot.serving import socket_mode_handler
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from solti.sandbox.slack.socket_mode import SocketModeServer
from tests.bot.conftest import ALICE, INFRA, socket_mode_bot

APP_TOKEN = "xapp-1-A0001-roundtrip-secret-token"


@pytest.fixture(scope="module")
def connected(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SocketModeServer]:
    """One bot connected in Socket Mode for the module (closing the client takes seconds)."""
    db = tmp_path_factory.mktemp("socket") / "solti.db"
    bot = socket_mode_bot(sim, standin.url, APP_TOKEN, db)
    handler = socket_mode_handler(bot.app, bot.runtime.settings, bot.runtime.acks)
    handler.connect()
    try:
        standin.socket_mode.wait_connected()
        yield standin.socket_mode
    finally:
        handler.close()
        bot.close()


def _slash(standin: SlackStandIn, text: str, key: str) -> dict[str, Any]:
    """A slash command's payload as Slack puts it in a `slash_commands` envelope."""
    return {
        "token": "verification-token",
        "team_id": "T0001",
        "team_domain": "solti",
        "channel_id": INFRA,
        "channel_name": "infra",
        "user_id": ALICE,
        "user_name": "alice",
        "command": "/solti",
        "text": text,
        "api_app_id": "A0789",
        "is_enterprise_install": "false",
        "response_url": standin.response_url(key, channel=INFRA, user=ALICE),
        "trigger_id": standin.issue_trigger(ALICE),
    }


def test_the_socket_url_comes_from_apps_connections_open_with_the_app_token(
    connected: SocketModeServer, standin: SlackStandIn
) -> None:
    opened = [c for c in standin.calls_to("apps.connections.open") if c.response.get("ok")]
    assert opened, "the runner never asked apps.connections.open for a URL"
    assert opened[0].response["url"].startswith(f"ws://127.0.0.1:{connected.port}/link/?")
    assert APP_TOKEN not in json.dumps([c.params for c in opened] + [c.headers for c in opened])
    assert connected.connections == 1


def test_slash_help_is_acked_on_the_socket_with_the_help_blocks(
    connected: SocketModeServer, standin: SlackStandIn
) -> None:
    envelope = connected.send("slash_commands", _slash(standin, "help", "sm-help"))
    ack = connected.wait_ack(envelope)
    assert ack.envelope_id == envelope and ack.payload is not None
    shown = json.dumps(ack.payload["blocks"])
    assert "Solti: VMs on Proxmox from Slack" in shown and "/solti vm create rocky9" in shown
    assert "open_create_modal" in shown  # the Customize… button


def test_a_usage_error_is_acked_with_the_help_hint(
    connected: SocketModeServer, standin: SlackStandIn
) -> None:
    envelope = connected.send("slash_commands", _slash(standin, "frobnicate", "sm-bad"))
    payload = connected.wait_ack(envelope).payload
    assert payload is not None and "frobnicate" in payload["text"]
    assert "Type `/solti help`" in json.dumps(payload["blocks"])


def test_only_an_event_retry_attempt_above_zero_is_dropped(
    connected: SocketModeServer, standin: SlackStandIn
) -> None:
    """Events carry ``retry_attempt`` (0 first); only a number above 0 is a retry, and only
    events are ever retried (docs.slack.dev/apis/events-api/#retries)."""
    before = len(standin.calls_to("views.publish"))
    again = connected.send(
        "events_api", _home_opened(standin, "Ev0RETRY1"), retry_attempt=1, retry_reason="timeout"
    )
    connected.wait_ack(again)
    first = connected.send("events_api", _home_opened(standin, "Ev0FIRST1"))
    connected.wait_ack(first)
    standin.wait_for(lambda: len(standin.calls_to("views.publish")) > before, 20)
    assert len(standin.calls_to("views.publish")) == before + 1  # the retry published nothing
    with pytest.raises(ValueError, match="never retries a slash_commands envelope"):
        connected.send("slash_commands", _slash(standin, "help", "sm-r1"), retry_attempt=1)


def _home_opened(standin: SlackStandIn, event_id: str) -> dict[str, Any]:
    """An ``app_home_opened`` event as Slack wraps it in an ``events_api`` envelope."""
    return {
        "token": "verification-token",
        "team_id": "T0001",
        "api_app_id": "A0789",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_700_000_000,
        "event": {
            "type": "app_home_opened",
            "user": ALICE,
            "channel": standin.state.resolve_channel(ALICE),
            "tab": "home",
            "event_ts": standin.state.new_ts(),
        },
    }


def test_a_block_actions_envelope_is_handled(
    connected: SocketModeServer, standin: SlackStandIn, template_built: int
) -> None:
    """Customize… clicked: an empty ack on the socket, then the form opens with the trigger."""
    trigger = standin.issue_trigger(ALICE)
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "name": "alice", "team_id": "T0001"},
        "api_app_id": "A0789",
        "token": "verification-token",
        "trigger_id": trigger,
        "team": {"id": "T0001", "domain": "solti"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "is_ephemeral": True},
        "channel": {"id": INFRA, "name": "infra"},
        "response_url": standin.response_url("sm-click", channel=INFRA, user=ALICE),
        "actions": [
            {
                "type": "button",
                "action_id": "open_create_modal",
                "block_id": "help",
                "text": {"type": "plain_text", "text": "Customize…"},
                "value": "{}",
                "action_ts": "1700000001.000200",
            }
        ],
    }
    envelope = connected.send("interactive", payload)
    assert connected.wait_ack(envelope).payload is None
    views = standin.wait_for(
        lambda: [
            v
            for v in standin.open_views(ALICE)
            if v.get("callback_id") == "vm_create"
            and str(template_built) in json.dumps(v.get("blocks"))
        ],
        20,
    )
    opened = [c for c in standin.calls_to("views.open") if c.params.get("trigger_id") == trigger]
    assert opened and opened[0].response["ok"] and views
