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
    """Who and where, from a payload ``malformed`` accepted."""
    user = _user_of(body)
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if channel is None and isinstance(body.get("view"), dict):
        try:
            metadata = json.loads(body["view"].get("private_metadata") or "{}")
        except ValueError:
            metadata = None
        found = metadata.get("channel") if isinstance(metadata, dict) else None
        channel = found if isinstance(found, str) else None
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
        problem = malformed(body)
        if problem is not None:
            # Signed by Slack, yet not the shape Slack documents: answered, logged once.
            log.info("ignoring a malformed payload: %s", problem)
            return BoltResponse(status=200, body=MALFORMED_TEXT)
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


MALFORMED_TEXT = (
    "Solti could not read that request (it is not shaped as Slack sends it); nothing was done."
)
_OPTIONAL_STR = (str, type(None))


def _user_of(body: dict[str, Any]) -> Any:
    if "command" in body:
        return body.get("user_id")
    if body.get("type") == "event_callback":  # Events API: the person is the event's
        event = body.get("event")
        return event.get("user") if isinstance(event, dict) else None
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) else None


def malformed(body: Any) -> str | None:
    """What is wrong with a payload's shape, or None: every field a listener or this
    middleware reads must have the type Slack documents, so no listener meets a surprise."""
    if not isinstance(body, dict):
        return "not an object"
    if body.get("type") == "event_callback" and not isinstance(body.get("event"), dict):
        return "event is not an object"
    user = _user_of(body)
    if not isinstance(user, str) or not user:
        return "no user"
    for key in ("channel", "container", "team", "message"):
        if key in body and not isinstance(body[key], dict | type(None)):
            return f"{key} is not an object"
    for key in ("trigger_id", "response_url", "channel_id", "text", "command", "type"):
        if not isinstance(body.get(key), _OPTIONAL_STR):
            return f"{key} is not a string"
    channel = body.get("channel")
    if isinstance(channel, dict) and not isinstance(channel.get("id"), _OPTIONAL_STR):
        return "channel.id is not a string"
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        if not (isinstance(actions, list) and actions and isinstance(actions[0], dict)):
            return "no actions"
        first = actions[0]
        for key in ("action_id", "action_ts", "block_id"):
            if not isinstance(first.get(key), _OPTIONAL_STR):
                return f"actions[0].{key} is not a string"
        if "view" in body and not isinstance(body["view"], dict | type(None)):
            return "view is not an object"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict):
            return "no view"
        if not isinstance(view.get("private_metadata"), _OPTIONAL_STR):
            return "view.private_metadata is not a string"
        if not isinstance(view.get("callback_id"), _OPTIONAL_STR):
            return "view.callback_id is not a string"
        state = view.get("state")
        if state is not None and not (
            isinstance(state, dict) and isinstance(state.get("values", {}), dict)
        ):
            return "view.state is not an object of values"
    return None


def install(app: Any, runtime: Runtime) -> None:
    app.use(SoltiMiddleware(runtime))


def utcnow() -> datetime:
    return datetime.now(UTC)
