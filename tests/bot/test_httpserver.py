"""The HTTP listener (waitress on a thread), first with a plain WSGI app, then with the bot.

What Slack and a health probe need from it: a body by Content-Length or chunked, ``Expect:
100-continue``, keep-alive, a 4xx for nonsense and a 500 (no traceback) when the app fails;
then the bot's routes over it (a chunked signed slash command, ``/metrics`` beside Slack's
route or on a port of its own).
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_sdk.signature import SignatureVerifier

from solti.bot.serving import MAX_BODY, WsgiListener
from solti.bot.settings import load_settings
from solti.composition import Bot, HttpService, build_bot
from solti.provisioning.config import Policy
from tests.bot.conftest import ALICE, INFRA, SIGNING_SECRET, Harness


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom")
    body = environ["wsgi.input"].read()
    data = json.dumps(
        {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "body": body.decode(),
            "type": environ.get("CONTENT_TYPE", ""),
            "signature": environ.get("HTTP_X_SLACK_SIGNATURE"),
        }
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


@pytest.fixture
def server() -> Iterator[WsgiListener]:
    with WsgiListener(_echo, threads=2) as running:
        yield running


def _exchange(server: WsgiListener, raw: bytes) -> tuple[str, bytes]:
    """One request on its own connection (``Connection: close``): status line and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode().split("\r\n")[0], body


def test_a_signed_post_reaches_the_app_with_body_and_headers(server: WsgiListener) -> None:
    body = b"command=%2Fsolti&text=help"
    raw = (
        b"POST /slack/events?a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nX-Slack-Signature: v0=ff\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status, reply = _exchange(server, raw)
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(reply) == {
        "method": "POST",
        "path": "/slack/events",
        "query": "a=b",
        "body": body.decode(),
        "type": "application/x-www-form-urlencoded",
        "signature": "v0=ff",
    }


def test_a_chunked_body_reaches_the_app_whole(server: WsgiListener) -> None:
    chunks = [b"command=%2Fsolti", b"&text=", b"vm+list"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("POST", "/slack/events", body=iter(chunks), encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["body"] == b"".join(chunks).decode()
    finally:
        connection.close()


def test_one_connection_serves_request_after_request(server: WsgiListener) -> None:
    """Keep-alive: the same socket answers three requests, nothing reconnects."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for n in range(3):
            connection.request("POST", f"/n{n}", body=f"body {n}".encode())
            response = connection.getresponse()
            assert json.loads(response.read())["body"] == f"body {n}"
            assert response.getheader("Connection", "").lower() != "close"
            if n == 0:
                first_socket = connection.sock
            assert connection.sock is first_socket
    finally:
        connection.close()


def test_expect_continue_gets_100_before_the_body(server: WsgiListener) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(
            b"POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert conn.recv(100).startswith(b"HTTP/1.1 100 Continue")
        conn.sendall(b"abc")
        rest = b""
        while chunk := conn.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200 OK") and b'"body": "abc"' in rest


def test_bad_requests_get_4xx_and_an_app_error_500(server: WsgiListener) -> None:
    assert _exchange(server, b"NONSENSE\r\n\r\n")[0].startswith("HTTP/1.0 400")
    too_big = f"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
    assert _exchange(server, too_big)[0].startswith("HTTP/1.1 413")
    status, body = _exchange(server, b"GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status.startswith("HTTP/1.1 500")
    assert b"Traceback" not in body and b"boom" not in body
    # And it still serves afterwards.
    assert _exchange(server, b"GET /ok HTTP/1.0\r\n\r\n")[0] == "HTTP/1.0 200 OK"


def test_head_requests_get_headers_only(server: WsgiListener) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("HEAD", "/ok")
        response = connection.getresponse()
        assert response.status == 200 and int(response.getheader("Content-Length", "0")) > 0
        assert response.read() == b""
        connection.request("GET", "/ok")  # the connection is still in step: no stray body
        assert json.loads(connection.getresponse().read())["method"] == "GET"
    finally:
        connection.close()


def test_a_taken_port_is_an_os_error_at_start(server: WsgiListener) -> None:
    with pytest.raises(OSError):
        WsgiListener(_echo, port=server.port).start()


def test_stop_closes_the_port_and_may_be_called_twice() -> None:
    listener = WsgiListener(_echo).start()
    port = listener.port
    listener.stop()
    listener.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_stop_still_closes_the_port_when_the_loop_already_closed_its_trigger() -> None:
    """CI once saw ``stop()`` raise EBADF: the loop had closed its wake-up pipe on the way down.

    Closing the trigger by hand puts the listener in that state; stop must still close the
    listening socket and end the loop's thread, not raise.
    """
    listener = WsgiListener(_echo).start()
    port = listener.port
    thread = listener._thread
    listener._server.trigger.close()
    listener.stop()
    assert thread is not None and not thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# -- the bot behind it: what `solti bot` serves in HTTP mode --------------------------------


def _signed_headers(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
        timestamp=timestamp, body=body.decode()
    )
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature or "",
    }


def test_a_chunked_slash_command_is_verified_and_answered(bot: Harness) -> None:
    """Slack sends Content-Length, but a proxy in front may re-chunk: both must verify."""
    body = urllib.parse.urlencode(
        {
            "command": "/solti",
            "text": "help",
            "user_id": ALICE,
            "channel_id": INFRA,
            "team_id": "T0001",
            "trigger_id": "chunked.1",
        }
    ).encode()
    pieces = [body[:10], body[10:25], body[25:]]
    connection = http.client.HTTPConnection("127.0.0.1", bot.server.slack.port, timeout=10)
    try:
        connection.request(
            "POST", "/slack/events", iter(pieces), _signed_headers(body), encode_chunked=True
        )
        response = connection.getresponse()
        reply = response.read()
        assert response.status == 200
        assert "/solti vm create rocky9" in json.dumps(json.loads(reply)["blocks"])
        # The same connection carries the next request (keep-alive with Bolt behind it).
        connection.request("GET", "/healthz")
        assert json.loads(connection.getresponse().read()) == {"ok": True}
    finally:
        connection.close()


@pytest.fixture
def bare_bot(tmp_path: Path) -> Bot:
    """A bot with no Proxmox behind it: enough for routes, health and metrics."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SOLTI_DB": str(tmp_path / "solti.db"),
        }
    )
    return build_bot(settings, provisioner=None, policy=Policy())


def test_metrics_on_a_port_of_their_own_leave_the_slack_port(bare_bot: Bot) -> None:
    with HttpService(bare_bot, metrics_port=0) as service:
        assert service.metrics is not None and service.metrics.port != service.slack.port
        slack_port = requests.get(service.url + "/metrics", timeout=5)
        assert slack_port.status_code == 404
        assert requests.get(service.url + "/healthz", timeout=5).json() == {"ok": True}
        metrics = requests.get(service.metrics_url, timeout=5)
        assert metrics.status_code == 200 and "solti_ack_latency_seconds" in metrics.text
        assert service.metrics_url == service.metrics.url + "/metrics"
        other = requests.post(service.metrics.url + "/slack/events", data=b"x", timeout=5)
        assert other.status_code == 404  # Slack's route is only on Slack's port


def test_metrics_beside_slack_by_default_and_stop_is_idempotent(bare_bot: Bot) -> None:
    service = HttpService(bare_bot).start(jobs=False)
    try:
        assert service.metrics is None
        assert requests.get(service.metrics_url, timeout=5).status_code == 200
        assert requests.get(service.events_url, timeout=5).status_code == 405  # POST only
    finally:
        service.stop()
        service.stop()
