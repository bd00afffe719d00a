"""Slack's acknowledgement deadline and the response_url's limits, enforced by the stand-in.

A stub app (plain ``http.server``) holds its acknowledgement until the test releases it, so
the person's side gives up for certain; no assertion depends on how long anything took.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from solti.sandbox.slack import SlackStandIn, SlackUser
from solti.sandbox.slack.acks import timed_out
from solti.sandbox.slack.slack_records import ACK_TIMEOUT_SECONDS, RESPONSE_URL_TTL_SECONDS


class _SlowApp:
    """Answers every request only once ``release`` is set; keeps the forms it got."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.forms: list[dict[str, str]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                app.forms.append({k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()})
                app.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.add_user("U0ALICE", "alice")
        slack.add_channel("C0INFRA", "infra", ["U0ALICE"])
        yield slack


@pytest.fixture
def slow_app() -> Iterator[_SlowApp]:
    app = _SlowApp()
    thread = threading.Thread(target=app.server.serve_forever, daemon=True)
    thread.start()
    yield app
    app.release.set()
    app.server.shutdown()
    app.server.server_close()


def test_the_user_waits_three_seconds_like_slack(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/interactivity/implementing-slash-commands: "you must respond
    within 3000 ms"; https://docs.slack.dev/tools/bolt-python/concepts/acknowledge: "you only
    have 3 seconds to respond before Slack registers a timeout error"."""
    assert ACK_TIMEOUT_SECONDS == 3.0
    assert SlackUser("http://127.0.0.1:1/", "s", standin).timeout == ACK_TIMEOUT_SECONDS


def test_a_late_ack_is_an_operation_timeout_and_the_reply_is_lost(
    standin: SlackStandIn, slow_app: _SlowApp
) -> None:
    """Slack shows the person `/solti failed with the error "operation_timeout"` and what the
    app sends to that command's response_url afterwards is not shown.

    https://docs.slack.dev/interactivity/implementing-slash-commands (responding within 3 s)
    """
    user = SlackUser(slow_app.url, "secret", standin, timeout=0.2)
    reply = user.slash("vm list")
    assert timed_out(reply)
    assert [t.kind for t in standin.ack_timeouts] == ["slash_command"]
    assert standin.ack_timeouts[0].what == "/solti vm list"
    shown = [e["text"] for e in standin.ephemerals("U0ALICE")]
    assert shown == ['/solti failed with the error "operation_timeout"']
    slow_app.release.set()
    late = requests.post(slow_app.forms[0]["response_url"], json={"text": "your VMs"}, timeout=5)
    assert late.status_code == 404 and late.text == "expired_url"
    assert len(standin.ephemerals("U0ALICE")) == 1


def test_a_late_click_is_recorded_too(standin: SlackStandIn, slow_app: _SlowApp) -> None:
    """Block actions have the same 3 s deadline.

    https://docs.slack.dev/interactivity/handling-user-interaction (acknowledgment response)
    """
    message = standin.state.post_message(
        "C0INFRA",
        {
            "text": "t",
            "blocks": [
                {
                    "type": "actions",
                    "block_id": "b",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "go",
                            "text": {"type": "plain_text", "text": "Go"},
                        }
                    ],
                }
            ],
        },
    )
    user = SlackUser(slow_app.url, "secret", standin, timeout=0.2)
    assert timed_out(user.click({**message, "channel": "C0INFRA"}, "go"))
    assert [(t.kind, t.what) for t in standin.ack_timeouts] == [("block_actions", "go")]


def test_response_url_takes_five_posts(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/interactivity/handling-user-interaction: a response_url can be
    used "up to 5 times within 30 minutes"."""
    url = standin.response_url("k5", channel="C0INFRA", user="U0ALICE")
    answers = [requests.post(url, json={"text": f"{n}"}, timeout=5) for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].text == "used_url"


def test_response_url_expires_after_thirty_minutes(standin: SlackStandIn) -> None:
    """https://docs.slack.dev/interactivity/handling-user-interaction ("up to 5 times within
    30 minutes"); after that the URL answers an error."""
    url = standin.response_url("k30", channel="C0INFRA", user="U0ALICE")
    assert requests.post(url, json={"text": "early"}, timeout=5).status_code == 200
    standin.advance(RESPONSE_URL_TTL_SECONDS + 1)
    late = requests.post(url, json={"text": "late"}, timeout=5)
    assert late.status_code == 404 and late.text == "expired_url"
    assert [e["text"] for e in standin.ephemerals("U0ALICE")] == ["early"]
