"""Socket Mode's own listener: /healthz follows the websocket session, /metrics serves Prometheus.

What `solti bot` runs with ``SLACK_APP_TOKEN`` (``composition.SocketModeService``) against
its own Slack stand-in, so no other module's bot shares the socket. The listener binds before
the session opens, which is how a probe sees 503 first. Every wait polls a condition with a
deadline; nothing asserts on elapsed time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests

from solti.bot.serving import SocketModeRunner, make_health_wsgi_app
from solti.bot.settings import load_settings
from solti.composition import SocketModeService, build_bot
from solti.provisioning import load_policy
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn, SlackUser
from tests.bot.conftest import ALICE, INFRA, SIGNING_SECRET, socket_mode_bot

APP_TOKEN = "xapp-1-A0001-health-secret-token"
CONNECTED = "solti_socket_mode_connected"
HELP_OK = 'solti_commands_total{outcome="ok",verb="help"}'
ACKS = "solti_ack_latency_seconds_count"
T = TypeVar("T")


def until(probe: Callable[[], T | None], what: str, timeout: float = 20) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


@dataclass
class Running:
    service: SocketModeService
    standin: SlackStandIn
    before_connect: requests.Response
    metrics_before_connect: str

    @property
    def runner(self) -> SocketModeRunner:
        return self.service.runner

    @property
    def url(self) -> str:
        assert self.service.url is not None
        return self.service.url

    def health(self) -> requests.Response:
        return requests.get(self.url + "/healthz", timeout=5)

    def metric(self, sample: str) -> float | None:
        for line in requests.get(self.url + "/metrics", timeout=5).text.splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return None


@pytest.fixture(scope="module")
def running(sim: SimEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A bot listening first, then connected: what a probe saw in between is kept."""
    db = tmp_path_factory.mktemp("socket-health") / "solti.db"
    with SlackStandIn() as standin:
        # /metrics beside /healthz, as `solti bot` serves them without --metrics-port.
        service = SocketModeService(socket_mode_bot(sim, standin.url, APP_TOKEN, db)).listen()
        try:
            base = str(service.url)
            before = requests.get(base + "/healthz", timeout=5)
            metrics_before = requests.get(base + "/metrics", timeout=5).text
            service.connect()
            standin.socket_mode.wait_connected()
            yield Running(service, standin, before, metrics_before)
        finally:
            service.stop()


def _slash_help(standin: SlackStandIn, key: str) -> dict[str, Any]:
    return {
        "token": "verification-token",
        "team_id": "T0001",
        "channel_id": INFRA,
        "user_id": ALICE,
        "user_name": "alice",
        "command": "/solti",
        "text": "help",
        "api_app_id": "A0789",
        "response_url": standin.response_url(key, channel=INFRA, user=ALICE),
        "trigger_id": standin.issue_trigger(ALICE),
    }


def test_healthz_is_503_before_the_session_and_200_once_slack_said_hello(
    running: Running,
) -> None:
    assert running.before_connect.status_code == 503
    assert running.before_connect.json() == {"ok": False, "reason": "connecting to Slack"}
    assert f"{CONNECTED} 0.0" in running.metrics_before_connect.splitlines()
    reply = until(lambda: (r := running.health()).status_code == 200 and r, "a 200 /healthz")
    assert reply.json() == {"ok": True}
    assert running.metric(CONNECTED) == 1.0
    assert running.runner.status.state() == (True, "ok")


def test_metrics_count_a_command_that_arrived_over_the_socket(running: Running) -> None:
    until(lambda: running.health().status_code == 200, "the session")
    helped, acks = running.metric(HELP_OK) or 0.0, running.metric(ACKS) or 0.0
    envelope = running.standin.socket_mode.send("slash_commands", _slash_help(running.standin, "h"))
    assert "blocks" in (running.standin.socket_mode.wait_ack(envelope).payload or {})
    # At least: the registry is per process, and another test's bot may still be finishing.
    until(lambda: (running.metric(HELP_OK) or 0) >= helped + 1, "the help command to be counted")
    assert (running.metric(ACKS) or 0) >= acks + 1  # timed like an HTTP request
    response = requests.get(running.url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert re.search(r"^# TYPE solti_commands(_total)? counter$", response.text, re.MULTILINE)
    assert f"# TYPE {CONNECTED} gauge" in response.text


def test_slack_events_are_not_served_in_socket_mode(running: Running) -> None:
    """No signing secret is checked in Socket Mode, so nothing may be accepted over HTTP."""
    helped = running.metric(HELP_OK) or 0.0
    user = SlackUser(running.url + "/slack/events", SIGNING_SECRET, running.standin)
    reply = user.slash("help")
    assert reply.status_code == 404 and "websocket" in reply.json()["error"]
    assert requests.get(running.url + "/slack/events", timeout=5).status_code == 404
    assert requests.get(running.url + "/nowhere", timeout=5).status_code == 404
    assert running.metric(HELP_OK) == helped  # nothing ran


def test_a_dropped_socket_reads_reconnecting_until_a_new_session_says_hello(
    running: Running,
) -> None:
    until(lambda: running.health().status_code == 200, "the session")
    client = running.runner.handler.client
    first_session = client.session_id()
    client.auto_reconnect_enabled = False  # hold the SDK's monitor off while we look
    client.current_session.disconnect()  # as its stale-ping check does: no close listener runs
    reply = running.health()
    assert reply.status_code == 503
    assert reply.json() == {"ok": False, "reason": "reconnecting to Slack"}
    assert running.metric(CONNECTED) == 0.0
    client.connect_to_new_endpoint()  # what the monitor does next; re-enables auto-reconnect
    until(lambda: running.health().status_code == 200, "the new session's hello")
    assert client.session_id() != first_session
    assert running.metric(CONNECTED) == 1.0


def test_health_app_without_a_session_object() -> None:
    """The route table alone: the reason reaches the body, extra routes win over the 404."""
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen.append(status)

    def extra(environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        start("200 OK", [("Content-Type", "text/plain")])
        return [b"extra"]

    app = make_health_wsgi_app(lambda: (False, "waiting for Slack's hello"), {"/x": extra})
    body = b"".join(app({"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}, start_response))
    assert seen[-1].startswith("503") and b"waiting for Slack's hello" in body
    assert b"".join(app({"PATH_INFO": "/x"}, start_response)) == b"extra"
    app({"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST"}, start_response)
    assert seen[-1].startswith("404")


def test_no_listener_when_the_port_is_none(sim: SimEnvironment) -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": APP_TOKEN})
    app = build_bot(settings, provisioner=None, policy=load_policy(sim.config_path)).app  # type: ignore[arg-type]
    runner = SocketModeRunner(app, settings, port=None)
    try:
        assert runner.listen().url is None
    finally:
        runner.stop()
