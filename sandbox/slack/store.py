"""The state of the Slack stand-in: workspace, messages, ephemerals, views, calls.

Kept apart from HTTP so the rules (what an edit or a `replace_original` does to a message,
when a trigger is spent, how a view stack grows) are plain methods, and so tests and the
console read one consistent picture. Every method takes the lock; every change notifies
waiters, so `wait_for` wakes on changes instead of sleeping blindly.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0789"
TEAM_ID = "T0001"
TEAM_DOMAIN = "example"
TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_USES = 5
MAX_VIEW_STACK = 3


class SlackError(Exception):
    """A Web API error code, answered as `{"ok": false, "error": code}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class Call:
    """One Web API request as received (the token value is never kept)."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class ResponsePost:
    """One POST to a response_url."""

    key: str
    body: dict[str, Any]
    status: int


@dataclass
class _ResponseTarget:
    channel: str | None
    user: str | None
    message_ts: str | None
    is_ephemeral: bool
    uses: int = 0


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """The message as Slack shows it (internal keys dropped)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if not k.startswith("_")}


class SlackState:
    """Everything the stand-in knows; thread-safe."""

    def __init__(self, trigger_ttl: float | None = TRIGGER_TTL_SECONDS) -> None:
        self.trigger_ttl = trigger_ttl
        self.changed = threading.Condition(threading.RLock())
        # Never reset: ts, trigger and view ids stay unique across `clear()`, as on Slack
        # (a bot that dedupes on trigger_id must not see an old id again).
        self._counter = itertools.count(1)
        self._epoch = int(time.time())
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
            self._messages: dict[str, list[dict[str, Any]]] = {}
            self._ephemerals: dict[str, list[dict[str, Any]]] = {}
            self.views: dict[str, dict[str, Any]] = {}
            self._stacks: dict[str, list[str]] = {}  # root view id -> stack of view ids
            self._triggers: dict[str, tuple[str, float, bool]] = {}
            self._targets: dict[str, _ResponseTarget] = {}
            self._rate_limits: dict[str, float] = {}
            self.version = getattr(self, "version", 0)
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
            if user_id not in self.users:
                self.add_user(user_id, name or user_id.lower())
            return self.users[user_id]

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        with self.changed:
            self.usergroups[group_id] = {"id": group_id, "handle": handle, "users": list(members)}
            self._touch()

    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None) -> None:
        with self.changed:
            self.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_channel": channel_id.startswith("C"),
                "is_im": channel_id.startswith("D"),
                "is_private": channel_id.startswith("G"),
                "is_member": True,
                "created": self._epoch,
                "members": list(members or []),
            }
            self._touch()

    def ensure_channel(self, channel_id: str, member: str | None = None) -> dict[str, Any]:
        with self.changed:
            if channel_id not in self.channels:
                self.add_channel(channel_id, channel_id.lower())
            channel = self.channels[channel_id]
            if member and member not in channel["members"]:
                channel["members"].append(member)
            return channel

    def resolve_channel(self, channel: str) -> str:
        """A channel id from an id, a `#name`, a name, or a user id (the DM with that user)."""
        with self.changed:
            if channel.startswith("U") or channel.startswith("W"):
                dm = "D" + channel[1:]
                self.ensure_channel(dm, channel)
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
            return _public(message)

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
            message["_revisions"].append(_public(message))
            for key in ("text", "blocks", "attachments"):
                if key in fields:
                    message[key] = fields[key]
            message["edited"] = {"user": BOT_USER_ID, "ts": self.new_ts()}
            self._touch()
            return _public(message)

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
                found.append({**_public(message), "channel": cid})
            return found

    def all_messages(self) -> list[dict[str, Any]]:
        with self.changed:
            return [
                {**_public(m), "channel": cid}
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
                    return [*copy.deepcopy(message["_revisions"]), _public(message)]
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

    # -- triggers and views ----------------------------------------------------------------

    def issue_trigger(self, user: str) -> str:
        with self.changed:
            trigger = f"{self._next()}.{self._epoch}.{secrets.token_hex(8)}"
            self._triggers[trigger] = (user, time.monotonic(), False)
            return trigger

    def spend_trigger(self, trigger_id: str | None) -> str:
        """The user the trigger belongs to; raises Slack's error when it cannot be used."""
        with self.changed:
            if not trigger_id or trigger_id not in self._triggers:
                raise SlackError("invalid_trigger_id")
            user, issued, used = self._triggers[trigger_id]
            if used:
                raise SlackError("exchanged_trigger_id")
            if self.trigger_ttl is not None and time.monotonic() - issued > self.trigger_ttl:
                raise SlackError("expired_trigger_id")
            self._triggers[trigger_id] = (user, issued, True)
            return user

    def open_view(self, view: dict[str, Any], user: str, parent: str | None = None) -> dict:
        with self.changed:
            view_id = f"V{self._next():08d}"
            root = self._root_of(parent) if parent else view_id
            stack = self._stacks.setdefault(root, [])
            if len(stack) >= MAX_VIEW_STACK:
                raise SlackError("push_limit_reached")
            stored = {
                "id": view_id,
                "team_id": TEAM_ID,
                "type": view.get("type", "modal"),
                "blocks": [],
                "private_metadata": "",
                "callback_id": "",
                "external_id": "",
                "state": {"values": {}},
                "hash": "",
                "clear_on_close": False,
                "notify_on_close": False,
                **copy.deepcopy(view),
                "previous_view_id": stack[-1] if stack else None,
                "root_view_id": root,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "_user": user,
                "_open": True,
            }
            stored["hash"] = f"{self._epoch}.{self._next():08x}"
            stack.append(view_id)
            self.views[view_id] = stored
            self._touch()
            return _public(stored)

    def _root_of(self, view_id: str | None) -> str:
        if view_id not in self.views:
            raise SlackError("not_found")
        return self.views[view_id]["root_view_id"]

    def update_view(
        self, view: dict[str, Any], view_id: str | None, external_id: str | None, hash_: str | None
    ) -> dict[str, Any]:
        with self.changed:
            if view_id is None and external_id is not None:
                view_id = next(
                    (k for k, v in self.views.items() if v.get("external_id") == external_id), None
                )
            stored = self.views.get(view_id or "")
            if stored is None:
                raise SlackError("not_found")
            if hash_ and hash_ != stored["hash"]:
                raise SlackError("hash_conflict")
            for key in ("title", "submit", "close", "blocks", "private_metadata", "callback_id"):
                stored.pop(key, None)
            stored.update(copy.deepcopy(view))
            stored["hash"] = f"{self._epoch}.{self._next():08x}"
            stored["state"] = {"values": {}}
            self._touch()
            return _public(stored)

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> None:
        with self.changed:
            self.views[view_id]["state"] = {"values": copy.deepcopy(values)}
            self._touch()

    def close_view(self, view_id: str, *, all_in_stack: bool = False) -> None:
        """Close a view (after a plain ack of its submission, or `clear`)."""
        with self.changed:
            stored = self.views.get(view_id)
            if stored is None:
                return
            stack = self._stacks.get(stored["root_view_id"], [])
            closing = list(stack) if all_in_stack else [view_id]
            for vid in closing:
                self.views[vid]["_open"] = False
                if vid in stack:
                    stack.remove(vid)
            self._touch()

    def view(self, view_id: str) -> dict[str, Any]:
        with self.changed:
            return _public(self.views[view_id])

    def open_views(self, user: str | None = None) -> list[dict[str, Any]]:
        """Views still on screen (the top of each stack last), optionally for one user."""
        with self.changed:
            return [
                _public(v)
                for v in self.views.values()
                if v["_open"] and (user is None or v["_user"] == user)
            ]

    # -- response_url ----------------------------------------------------------------------

    def register_response_target(
        self,
        key: str,
        channel: str | None,
        user: str | None,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
    ) -> None:
        with self.changed:
            self._targets[key] = _ResponseTarget(channel, user, message_ts, is_ephemeral)

    def respond(self, key: str, body: dict[str, Any]) -> None:
        """Apply a response_url POST as Slack does; raises SlackError for a bad or spent URL."""
        with self.changed:
            target = self._targets.get(key)
            if target is None:
                raise SlackError("invalid_url")
            if target.uses >= RESPONSE_URL_USES:
                raise SlackError("used_url")
            target.uses += 1
            fields = {k: body[k] for k in ("text", "blocks", "attachments") if k in body}
            original_ephemeral = self._find_ephemeral(target.user, target.message_ts)
            if body.get("delete_original"):
                if target.is_ephemeral and original_ephemeral is not None:
                    self._ephemerals[target.user or ""].remove(original_ephemeral)
                elif target.channel and self._find(target.channel, target.message_ts):
                    self.delete_message(target.channel, target.message_ts or "")
                self._touch()
                return
            if body.get("replace_original") and target.message_ts:
                if target.is_ephemeral and original_ephemeral is not None:
                    original_ephemeral.update(fields)
                    self._touch()
                elif target.channel:
                    self.update_message(target.channel, target.message_ts, fields)
                return
            if body.get("response_type") == "in_channel" and target.channel:
                if body.get("thread_ts"):
                    fields["thread_ts"] = body["thread_ts"]
                self.post_message(target.channel, fields)
            elif target.user and target.channel:
                self.post_ephemeral(target.channel, target.user, fields)

    # -- rate limits -----------------------------------------------------------------------

    def rate_limit_next(self, method: str, retry_after: float = 1) -> None:
        with self.changed:
            self._rate_limits[method] = retry_after

    def take_rate_limit(self, method: str) -> float | None:
        with self.changed:
            return self._rate_limits.pop(method, None)

    def record(self, call: Call) -> None:
        with self.changed:
            self.calls.append(call)
            self._touch()
