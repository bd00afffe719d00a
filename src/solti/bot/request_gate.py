"""The door in front of Bolt: size, signature and shape, checked before anything is parsed.

Bolt parses a request's body before it checks the signature, decodes it as UTF-8 without
asking, and logs a refused request with its whole body: 20 unauthenticated posts of 1 MB
wrote 20 MB of log, a body with newlines forged log lines, and bytes that are not UTF-8 or
``payload=null`` raised inside Bolt (a traceback and a 500). Here every request is, in order:

1. refused ``413`` when its body is larger than ``max_body`` (read no further);
2. refused ``401`` without a valid, fresh Slack signature (when a signing secret is set);
3. refused ``400`` when, signed or not, it is not something Slack sends at all (not UTF-8,
   a ``payload`` that is not a JSON object, a JSON body that is not an object);
4. handed to Bolt; anything Bolt still raises is answered ``200`` with a sentence.

Each refusal is logged once, as method, path, size and reason: never the body, never a
traceback (``solti.telemetry.logs`` escapes what a client sent).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["FAILED_TEXT", "MAX_CLOCK_SKEW", "gate", "not_slack", "signature_problem"]

log = logging.getLogger("solti.bot.request_gate")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
FAILED_TEXT = "Solti could not handle that request; nothing was done. Try again, or tell an admin."


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def not_slack(body: bytes, content_type: str) -> str | None:
    """Why ``body`` cannot be a request from Slack, or None when it may be one (pure)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not UTF-8 (byte {exc.start})"
    if content_type.startswith("application/json"):
        try:
            document = json.loads(text) if text.strip() else {}
        except ValueError:
            return "the body is not JSON"
        return None if isinstance(document, dict) else "the JSON body is not an object"
    try:
        form = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return "the body is not a form"
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError:
            return "the payload is not JSON"
        if not isinstance(payload, dict):
            return "the payload is not a JSON object"
    return None


MAX_CLOCK_SKEW = 300  # seconds: Slack's own rule against replayed requests


def signature_problem(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """Why the request is not signed by Slack with ``secret``, or None when it is (pure).

    Over the raw bytes: the SDK's verifier decodes the body as UTF-8 first and raises on a
    body that is not, before it could say the signature is wrong.
    """
    if not timestamp or not signature:
        return "no Slack signature"
    try:
        stamp = int(timestamp)
    except ValueError:
        return "a timestamp that is not a number"
    if abs(now - stamp) > MAX_CLOCK_SKEW:
        return "a stale Slack timestamp"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "an invalid Slack signature"
    return None


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


def gate(slack: WsgiApp, signing_secret: str | None, max_body: int) -> WsgiApp:
    """``slack`` behind the checks above; ``signing_secret`` None skips the signature."""

    def refuse(
        environ: dict[str, Any], start: Callable[..., Any], status: str, size: Any, why: str
    ) -> list[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        log.warning("refused %s %s (%s bytes): %s", method, path, size, why)
        return _json(start, status, {"error": why})

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = _content_length(environ)
        if length is None:
            return refuse(environ, start_response, "400 Bad Request", "?", "bad Content-Length")
        if length > max_body:
            why = f"the body is larger than {max_body} bytes"
            return refuse(environ, start_response, "413 Content Too Large", length, why)
        body = environ["wsgi.input"].read(length) if length else b""
        if signing_secret:
            why = signature_problem(
                signing_secret,
                body,
                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                environ.get("HTTP_X_SLACK_SIGNATURE"),
                time.time(),
            )
            if why is not None:
                return refuse(environ, start_response, "401 Unauthorized", length, why)
        problem = not_slack(body, environ.get("CONTENT_TYPE") or "")
        if problem is not None:
            return refuse(environ, start_response, "400 Bad Request", length, problem)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        try:
            return list(slack(environ, start_response))
        except Exception as exc:  # Bolt's own parsing of an odd but signed request
            log.error("a signed request failed in Bolt (%s bytes): %s", length, type(exc).__name__)
            return _json(start_response, "200 OK", {"text": FAILED_TEXT})

    return wsgi
