"""The state of the Slack stand-in: workspace, messages, ephemerals, views, calls.

Kept apart from HTTP so the rules (what an edit or a `replace_original` does to a message,
when a trigger is spent, how a view stack grows) are plain methods, and so tests and the
console read one consistent picture. Every method takes the lock; every change notifies
waiters, so `wait_for` wakes on changes instead of sleeping blindly.

This module holds the workspace and messages; views and triggers are ``views_store``, response
URLs ``response_urls``, shared records and ids ``records`` (re-exported here).
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from typing import Any

from solti.sandbox.slack.response_urls import ResponseUrlMixin
from solti.sandbox.slack.slack_records import (
    ACK_TIMEOUT_SECONDS,
    APP_ID,
    BOT_ID,
    BOT_SCOPES,
    BOT_USER_ID,
    MAX_VIEW_STACK,
    RESPONSE_URL_TTL_SECONDS,
    RESPONSE_URL_USES,
    TEAM_DOMAIN,
    TEAM_ID,
    TRIGGER_TTL_SECONDS,
    AckTimeout,
    Call,
    GridOrg,
    ResponsePost,
    SlackError,
    public,
)
from solti.sandbox.slack.views_store import ViewsMixin

__all__ = [
    "ACK_TIMEOUT_SECONDS",
    "APP_ID",
    "BOT_ID",
    "BOT_SCOPES",
    "BOT_USER_ID",
    "MAX_VIEW_STACK",
    "RESPONSE_URL_TTL_SECONDS",
    "RESPONSE_URL_USES",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TRIGGER_TTL_SECONDS",
    "AckTimeout",
    "Call",
    "GridOrg",
    "ResponsePost",
    "SlackError",
    "SlackState",
]


class SlackState(ViewsMixin, ResponseUrlMixin):
    """Everything the stand-in knows; thread-safe."""

    def __init__(
        self,
        trigger_ttl: float | None = TRIGGER_TTL_SECONDS,
        scopes: frozenset[str] = BOT_SCOPES,
        grid: GridOrg | None = None,
    ) -> None:
        self.trigger_ttl = trigger_ttl
        self.scopes = frozenset(scopes)
        self.grid = grid
        self.changed = threading.Condition(threading.RLock())
        # Never reset: ts, trigger and view ids stay unique across `clear()`, as on Slack
        # (a bot that dedupes on trigger_id must not see an old id again).
        self._counter = itertools.count(1)
        self._epoch = int(time.time())
        self._skew = 0.0  # seconds `advance()` moved the stand-in's clock
        self.clear()

    # -- lifecycle -------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything except the seeded workspace (users, groups, channels)."""
        with self.changed:
            self.users: dict[str, dict[str, Any]] = getattr(self, "users", {})
            self.usergroups: dict[str, dict[str, Any]] = getattr(self, "usergroups", {})
            self.channels: dict[str, dict[str, Any]] = getattr(self, "channels", {})
            self.calls: list[Call] = []
            self.response_posts: list[ResponsePost] = []
            self.ack_timeouts: list[AckTimeout] = []
            self._messages: dict[str, list[dict[str, Any]]] = {}
            self._ephemerals: dict[str, list[dict[str, Any]]] = {}
            self.views: dict[str, dict[str, Any]] = {}
            self._stacks: dict[str, list[str]] = {}  # root view id -> stack of view ids
            self._triggers: dict[str, tuple[str, float, bool]] = {}
            self._targets: dict[str, Any] = {}  # key -> response_urls target
            self._rate_limits: dict[str, list[float]] = {}
            self.version = getattr(self, "version", 0)
            self._touch()

    def now(self) -> float:
        """The stand-in's monotonic clock (response_url ages), moved on by ``advance``."""
        return time.monotonic() + self._skew

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for the stand-in's time limits (a response_url's 30 minutes)."""
        with self.changed:
            self._skew += seconds
            self._touch()

    def record_ack_timeout(self, kind: str, what: str) -> None:
        with self.changed:
            self.ack_timeouts.append(AckTimeout(kind, what))
            self._touch()

    def _touch(self) -> None:
        self.version += 1
        self.changed.notify_all()

    def _next(self) -> int:
        return next(self._counter)

    def new_ts(self) -> str:
        with self.changed:
            return f"{self._epoch}.{self._next():06d}"

    # -- seeding ---------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str | None = None, **extra: Any) -> None:
        with self.changed:
            profile = {"real_name": real_name or name, "display_name": name}
            self.users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": real_name or name,
                "deleted": False,
                "is_bot": False,
                "is_admin": False,
                "tz": "Europe/Paris",
                "profile": profile,
                **extra,
            }
            self._touch()

    def ensure_user(self, user_id: str, name: str | None = None) -> dict[str, Any]:
        with self.changed:
            if user_id not in self.users:  # U0ALICE (or Grid's W0ALICE) is @alice
                self.add_user(user_id, name or user_id.lower()[2:])
            return self.users[user_id]

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        with self.changed:
            self.usergroups[group_id] = {"id": group_id, "handle": handle, "users": list(members)}
            self._touch()

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: list[str] | None = None,
        *,
        bot_member: bool = True,
    ) -> None:
        """A conversation of the workspace. Seeded channels have the bot in them (it was
        invited when the world was set up); pass ``bot_member=False`` for one it is not in."""
        with self.changed:
            people = list(members or [])
            if bot_member and BOT_USER_ID not in people:
                people.append(BOT_USER_ID)
            self.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_channel": channel_id.startswith("C"),
                "is_im": channel_id.startswith("D"),
                "is_private": channel_id.startswith("G"),
                "created": self._epoch,
                "members": people,
            }
            self._touch()

    def ensure_channel(self, channel_id: str, member: str | None = None) -> dict[str, Any]:
        """The conversation a person acts in, created if the stand-in was not told of it.

        Such a conversation exists in Slack but nobody invited the bot: it is not a member
        (``is_member`` false), so it may post there only as Slack allows (``can_post``).
        """
        with self.changed:
            if channel_id not in self.channels:
                name = "directmessage" if channel_id.startswith("D") else channel_id.lower()
                self.add_channel(channel_id, name, bot_member=False)
            channel = self.channels[channel_id]
            if member and member not in channel["members"]:
                channel["members"].append(member)
            return self.channel_info(channel_id)

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        """The conversation as the bot sees it (``is_member`` from its membership)."""
        with self.changed:
            channel = self.channels[channel_id]
            return {
                **{k: v for k, v in channel.items() if k != "members"},
                "is_member": BOT_USER_ID in channel["members"],
                "members": list(channel["members"]),
            }

    def is_bot_member(self, channel_id: str) -> bool:
        with self.changed:
            channel = self.channels.get(channel_id)
            return channel is not None and BOT_USER_ID in channel["members"]

    def join(self, channel_id: str) -> None:
        with self.changed:
            members = self.channels[channel_id]["members"]
            if BOT_USER_ID not in members:
                members.append(BOT_USER_ID)
            self._touch()

    def resolve_channel(self, channel: str) -> str:
        """A channel id from an id, a `#name`, a name, or a user id (the bot's DM with that
        user, which Slack opens on the first post: the App Home's Messages tab)."""
        with self.changed:
            if channel.startswith("U") or channel.startswith("W"):
                dm = "D" + channel[1:]
                if dm not in self.channels:
                    self.add_channel(dm, "directmessage", [channel])
                return dm
            name = channel.lstrip("#")
            for cid, info in self.channels.items():
                if info["name"] == name and cid != name:
                    return cid
            return channel

    # -- messages --------------------------------------------------------------------------

    def post_message(self, channel: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.changed:
            ts = self.new_ts()
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "team": TEAM_ID,
                "ts": ts,
                **fields,
                "_channel": channel,
                "_revisions": [],
                "_deleted": False,
            }
            self._messages.setdefault(channel, []).append(message)
            thread_ts = fields.get("thread_ts")
            parent = self._find(channel, thread_ts) if thread_ts else None
            if parent is not None and parent is not message:
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent.setdefault("thread_ts", parent["ts"])
            self._touch()
            return public(message)

    def _find(self, channel: str, ts: str | None) -> dict[str, Any] | None:
        for message in self._messages.get(channel, []):
            if message["ts"] == ts and not message["_deleted"]:
                return message
        return None

    def update_message(self, channel: str, ts: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.changed:
            message = self._find(channel, ts)
            if message is None:
                raise SlackError("message_not_found")
            message["_revisions"].append(public(message))
            for key in ("text", "blocks", "attachments"):
                if key in fields:
                    message[key] = fields[key]
            message["edited"] = {"user": BOT_USER_ID, "ts": self.new_ts()}
            self._touch()
            return public(message)

    def delete_message(self, channel: str, ts: str) -> None:
        with self.changed:
            message = self._find(channel, ts)
            if message is None:
                raise SlackError("message_not_found")
            message["_deleted"] = True
            self._touch()

    def messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Visible top-level messages of a channel, oldest first (or a thread's replies).

        Thread replies are left out of the channel view, as in Slack's channel history, so
        "the last message" is the last one a person sees in the channel.
        """
        with self.changed:
            cid = self.resolve_channel(channel)
            found = []
            for message in self._messages.get(cid, []):
                if message["_deleted"]:
                    continue
                parent = message.get("thread_ts")
                top_level = parent is None or parent == message["ts"]
                if thread_ts is None and not top_level:
                    continue
                if thread_ts is not None and (top_level or parent != thread_ts):
                    continue
                found.append({**public(message), "channel": cid})
            return found

    def all_messages(self) -> list[dict[str, Any]]:
        with self.changed:
            return [
                {**public(m), "channel": cid}
                for cid, items in self._messages.items()
                for m in items
                if not m["_deleted"]
            ]

    def revisions(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Every earlier state of a message (oldest first), then its current state."""
        with self.changed:
            cid = self.resolve_channel(channel)
            for message in self._messages.get(cid, []):
                if message["ts"] == ts:
                    return [*copy.deepcopy(message["_revisions"]), public(message)]
            return []

    def post_ephemeral(self, channel: str, user: str, fields: dict[str, Any]) -> str:
        with self.changed:
            ts = self.new_ts()
            entry = {"type": "message", "ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID, **fields}
            entry["channel"] = channel
            entry["_ephemeral"] = True
            self._ephemerals.setdefault(user, []).append(entry)
            self._touch()
            return ts

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        with self.changed:
            return copy.deepcopy(self._ephemerals.get(user, []))

    def _find_ephemeral(self, user: str | None, ts: str | None) -> dict[str, Any] | None:
        for entry in self._ephemerals.get(user or "", []):
            if entry["ts"] == ts:
                return entry
        return None

    # -- rate limits -----------------------------------------------------------------------

    def rate_limit_next(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        with self.changed:
            self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def take_rate_limit(self, method: str) -> float | None:
        with self.changed:
            pending = self._rate_limits.get(method)
            if not pending:
                return None
            wait = pending.pop(0)
            if not pending:
                del self._rate_limits[method]
            return wait

    def record(self, call: Call) -> None:
        with self.changed:
            self.calls.append(call)
            self._touch()
