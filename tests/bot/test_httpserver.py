"""The pooled WSGI server: the request head parser alone, then real sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from solti.bot.httpserver import MAX_BODY, BadRequest, PooledWsgiServer, parse_head


def test_parse_head_reads_method_target_version_and_headers() -> None:
    head = (
        b"POST /slack/events?x=1 HTTP/1.1\r\nHost: a\r\nX-Slack-Signature: v0=ab\r\n"
        b"Accept: a\r\naccept: b"
    )
    method, target, version, headers = parse_head(head)
    assert (method, target, version) == ("POST", "/slack/events?x=1", "HTTP/1.1")
    assert headers["x-slack-signature"] == "v0=ab"
    assert headers["accept"] == "a, b"


@pytest.mark.parametrize(
    "head",
    [b"GARBAGE", b"GET / HTTP/2.0", b"GET /\r\n", b"GET / HTTP/1.1\r\nno colon here", b""],
)
def test_parse_head_refuses_malformed_requests(head: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_head(head)


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom")
    body = environ["wsgi.input"].read()
    data = json.dumps(
        {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "length": len(body),
            "type": environ["CONTENT_TYPE"],
            "signature": environ.get("HTTP_X_SLACK_SIGNATURE"),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]


@pytest.fixture
def server() -> Iterator[PooledWsgiServer]:
    running = PooledWsgiServer("127.0.0.1", 0, _echo, workers=4, timeout=2).start()
    try:
        yield running
    finally:
        running.stop()


def _exchange(server: PooledWsgiServer, raw: bytes) -> tuple[str, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode().split("\r\n")[0], body


def test_a_signed_post_reaches_the_app_with_body_and_headers(server: PooledWsgiServer) -> None:
    body = b"command=%2Fsolti&text=help"
    raw = (
        b"POST /slack/events?a=b HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nX-Slack-Signature: v0=ff\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status, reply = _exchange(server, raw)
    assert status == "HTTP/1.1 200 OK"
    seen = json.loads(reply)
    assert seen == {
        "method": "POST",
        "path": "/slack/events",
        "query": "a=b",
        "length": len(body),
        "type": "application/x-www-form-urlencoded",
        "signature": "v0=ff",
    }


def test_expect_continue_gets_100_before_the_body(server: PooledWsgiServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(b"POST /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 100 Continue")
        conn.sendall(b"abc")
        rest = b""
        while chunk := conn.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200 OK") and b'"length": 3' in rest


def test_bad_requests_get_4xx_and_an_app_error_500(server: PooledWsgiServer) -> None:
    assert _exchange(server, b"NONSENSE\r\n\r\n")[0].startswith("HTTP/1.1 400")
    too_big = f"POST /x HTTP/1.1\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
    assert _exchange(server, too_big)[0].startswith("HTTP/1.1 413")
    chunked = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _exchange(server, chunked)[0].startswith("HTTP/1.1 411")
    assert _exchange(server, b"GET /boom HTTP/1.1\r\n\r\n")[0].startswith("HTTP/1.1 500")
    # And it still serves afterwards.
    assert _exchange(server, b"GET /ok HTTP/1.0\r\n\r\n")[0] == "HTTP/1.1 200 OK"


def test_head_requests_get_headers_only(server: PooledWsgiServer) -> None:
    status, body = _exchange(server, b"HEAD /ok HTTP/1.1\r\n\r\n")
    assert status == "HTTP/1.1 200 OK" and body == b""
