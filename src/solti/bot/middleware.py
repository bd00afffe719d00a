"""Global Bolt middleware: stamp each request, drop replays and retries, enforce channels.

Runs after Bolt's signature check and before any listener, so a retried or replayed request
is answered with an empty 200 and never reaches code with side effects.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from solti.bot.runtime import Runtime
from solti.bot.seen import SeenRequests

__all__ = ["install"]

log = logging.getLogger("solti.bot.middleware")


def _dedupe_key(body: dict[str, Any]) -> str | None:
    kind = body.get("type") or ("command" if "command" in body else None)
    trigger = body.get("trigger_id")
    if kind == "block_actions":
        action = (body.get("actions") or [{}])[0]
        stamp = action.get("action_ts") or trigger
        user = (body.get("user") or {}).get("id")
        return f"action:{user}:{action.get('action_id')}:{stamp}" if stamp else None
    if kind in ("command", "view_submission") and trigger:
        return f"{kind}:{trigger}"
    return None


def _user_channel(body: dict[str, Any]) -> tuple[str | None, str | None]:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel is None and isinstance(body.get("view"), dict):
        try:
            channel = json.loads(body["view"].get("private_metadata") or "{}").get("channel")
        except (ValueError, AttributeError):
            channel = None
    return user, channel


class SoltiMiddleware(Middleware):
    """A class, not a function: Bolt builds a function middleware's arguments eagerly and
    that crashes on malformed payloads (``actions: []``) before our code could look."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        if runtime.seen is None:
            runtime.seen = SeenRequests(runtime.database, runtime.clock)
        self.seen = runtime.seen

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body, context = req.body, req.context
        if not isinstance(body, dict) or _malformed(body):
            log.info("ignoring a malformed payload")
            return BoltResponse(status=200, body="")
        retry = req.headers.get("x-slack-retry-num")
        # Socket Mode mirrors an envelope's `retry_attempt` into this header, and first
        # deliveries of events carry `retry_attempt: 0`: only a number above 0 is a retry.
        if retry and retry[0].strip() not in ("", "0"):
            reason = req.headers.get("x-slack-retry-reason")
            log.info("dropping Slack retry %s (%s)", retry[0], reason)
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        key = _dedupe_key(body)
        if key is not None and not self.seen.first_time(key):
            log.info("dropping a duplicate payload")
            return BoltResponse(status=200, body="")
        user, channel = _user_channel(body)
        context["runtime"] = self.runtime  # by reference: listeners read it (runtime_in)
        context["request_id"] = uuid.uuid4().hex[:12]
        context["requester"] = user
        context["origin_channel"] = channel
        if "command" in body:
            allowed = self.runtime.rules.channel_allowed(channel)
            if not allowed:
                return BoltResponse(status=200, body=allowed.reason)
        return next()


def _malformed(body: dict[str, Any]) -> bool:
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return not (isinstance(actions, list) and actions and isinstance(actions[0], dict))
    if kind == "view_submission":
        return not isinstance(body.get("view"), dict)
    return False


def install(app: Any, runtime: Runtime) -> None:
    app.use(SoltiMiddleware(runtime))


def utcnow() -> datetime:
    return datetime.now(UTC)
