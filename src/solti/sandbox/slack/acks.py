"""Slack's side of an acknowledgement that came too late (``ACK_TIMEOUT_SECONDS``).

Slack gives the app 3 s; then it shows the person ``operation_timeout`` and forgets the
request. ``SlackUser`` hands its caller a 504 whose ``reason`` is ``operation_timeout`` in
place of the app's answer, and these helpers name and recognise it.
https://docs.slack.dev/interactivity/implementing-slash-commands (respond within 3000 ms)
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import requests

__all__ = ["operation_timeout", "payload_subject", "response_url_key", "timed_out"]


def timed_out(reply: requests.Response) -> bool:
    """Whether Slack gave up waiting for this acknowledgement (see the module docstring)."""
    return reply.status_code == 504 and reply.reason == "operation_timeout"


def operation_timeout(url: str) -> requests.Response:
    reply = requests.Response()
    reply.status_code = 504
    reply.reason = "operation_timeout"
    reply.url = url
    reply._content = b""
    return reply


def payload_subject(payload: dict[str, Any]) -> str:
    actions = payload.get("actions") or []
    if actions:
        return str(actions[0].get("action_id"))
    view = payload.get("view") or {}
    return str(view.get("callback_id") or payload.get("callback_id") or "")


def response_url_key(url: Any) -> str | None:
    if not isinstance(url, str) or "/response/" not in url:
        return None
    return urllib.parse.unquote(url.rsplit("/response/", 1)[1])
