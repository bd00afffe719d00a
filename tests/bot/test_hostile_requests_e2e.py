"""Requests no well-behaved Slack sends: floods, forged log lines, signed nonsense.

Before ``bot.request_gate``: Bolt logged a refused request with its whole body (20 posts of
1 MB wrote 20 MB of log), a body with newlines forged log lines, and signed payloads of the
wrong shape raised tracebacks and some 500s.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
import urllib.parse
from collections.abc import Iterator

import pytest
import requests

from solti.telemetry.logs import RedactingFilter, TextFormatter
from tests.bot.conftest import ALICE, INFRA, SIGNING_SECRET, Harness


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, formatted as `solti bot` writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _post(bot: Harness, body: bytes, *, signed: bool = True, **headers: str) -> requests.Response:
    sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    if signed:
        timestamp = str(int(time.time()))
        base = b"v0:" + timestamp.encode() + b":" + body  # signed as bytes, as Slack does
        digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
        sent["X-Slack-Request-Timestamp"] = timestamp
        sent["X-Slack-Signature"] = f"v0={digest}"
    return requests.post(bot.server.events_url, data=body, headers=sent, timeout=10)


def _payload(document: object) -> bytes:
    return ("payload=" + urllib.parse.quote(json.dumps(document))).encode()


def test_unsigned_floods_are_refused_without_logging_their_bodies(
    bot: Harness, log_text: io.StringIO
) -> None:
    big = b"payload=" + b"A" * 1_000_000
    for _ in range(20):
        reply = _post(bot, big, signed=False)
        assert reply.status_code == 413  # refused before the body is read
    small = b"command=%2Fsolti&text=x\n2026-01-01T00:00:00Z ERROR   solti.bot forged line"
    assert _post(bot, small, signed=False).status_code == 401
    written = log_text.getvalue()
    assert len(written) < 20_000, len(written)
    assert "AAAAAAAAAA" not in written
    assert not any("forged line" in line for line in written.splitlines())
    refusals = [line for line in written.splitlines() if "refused POST /slack/events" in line]
    assert len(refusals) <= 21, refusals[:3]  # at most once each: method, path, size, reason
    assert "(74 bytes): no Slack signature" in refusals[-1]


def test_a_logged_client_string_cannot_start_a_line(log_text: io.StringIO) -> None:
    logging.getLogger("solti.test").warning("user said %s", "hi\nFAKE ERROR line\r\u2028x")
    lines = log_text.getvalue().splitlines()
    assert len(lines) == 1 and "hi\\nFAKE ERROR line\\r\\u2028x" in lines[0]


MALFORMED = {
    "missing user": _payload(
        {"type": "block_actions", "actions": [{"action_id": "vm_remove", "value": "100"}]}
    ),
    "user as a string": _payload(
        {"type": "block_actions", "user": ALICE, "actions": [{"action_id": "vm_remove"}]}
    ),
    "action id a number": _payload(
        {"type": "block_actions", "user": {"id": ALICE}, "actions": [{"action_id": 5}]}
    ),
    "channel as a string": _payload(
        {
            "type": "block_actions",
            "user": {"id": ALICE},
            "channel": INFRA,
            "actions": [{"action_id": "vm_remove", "value": "1"}],
        }
    ),
    "metadata a number": _payload(
        {
            "type": "view_submission",
            "user": {"id": ALICE},
            "view": {"callback_id": "vm_create", "private_metadata": 12, "state": {}},
        }
    ),
    "state values a list": _payload(
        {
            "type": "view_submission",
            "user": {"id": ALICE},
            "view": {"callback_id": "vm_create", "state": {"values": []}},
        }
    ),
    "metadata a JSON list": _payload(
        {
            "type": "view_submission",
            "user": {"id": ALICE},
            "trigger_id": "t-list",
            "view": {"callback_id": "vm_create", "private_metadata": "[1, 2]", "state": {}},
        }
    ),
    "command without user": b"command=%2Fsolti&text=vm+list&channel_id=C0INFRA",
}
NOT_SLACK = {
    "payload null": b"payload=null",
    "payload a list": b"payload=%5B1%5D",
    "payload not JSON": b"payload=%7Bnope",
    "not UTF-8": b"command=%2Fsolti&text=\xff\xfe\xfa",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_signed_payloads_of_the_wrong_shape_get_a_sentence(
    bot: Harness, log_text: io.StringIO, name: str
) -> None:
    reply = _post(bot, MALFORMED[name])
    assert reply.status_code == 200, reply.text
    assert reply.text.strip(), "answered with a sentence"
    written = log_text.getvalue()
    assert "Traceback" not in written, written


@pytest.mark.parametrize("name", sorted(NOT_SLACK))
def test_signed_bodies_that_are_not_slacks_get_400(
    bot: Harness, log_text: io.StringIO, name: str
) -> None:
    reply = _post(bot, NOT_SLACK[name])
    assert reply.status_code == 400, reply.text
    written = log_text.getvalue()
    assert "Traceback" not in written, written
    assert written.count("refused POST /slack/events") == 1, written
    assert bot.user.slash("help").status_code == 200
