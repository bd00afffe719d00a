"""Trigger ids and modal views of the Slack stand-in, with Slack's rules.

A trigger is spent once and expires (3 s); views stack up to three deep (``views.push``); an
update replaces title, blocks and metadata, checks ``hash`` and clears the state. Mixed into
``SlackState``, whose lock (``changed``) every method takes.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import TYPE_CHECKING, Any

from solti.sandbox.slack.slack_records import (
    APP_ID,
    BOT_ID,
    MAX_VIEW_STACK,
    TEAM_ID,
    SlackError,
    public,
)

if TYPE_CHECKING:
    from solti.sandbox.slack.store import SlackState

__all__ = ["ViewsMixin"]


class ViewsMixin:
    """``views.open|push|update`` state: triggers, view stacks, what is on screen."""

    def issue_trigger(self: SlackState, user: str) -> str:
        with self.changed:
            trigger = f"{self._next()}.{self._epoch}.{secrets.token_hex(8)}"
            self._triggers[trigger] = (user, time.monotonic(), False)
            return trigger

    def spend_trigger(self: SlackState, trigger_id: str | None) -> str:
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

    def open_view(
        self: SlackState, view: dict[str, Any], user: str, parent: str | None = None
    ) -> dict:
        with self.changed:
            view_id = f"V{self._next():08d}"
            root = self._root_of(parent) if parent else view_id
            stack = self._stacks.setdefault(root, [])
            if len(stack) >= MAX_VIEW_STACK:
                raise SlackError("push_limit_reached")
            stored = {
                "id": view_id,
                "team_id": TEAM_ID,
                "app_installed_team_id": TEAM_ID,
                "type": view.get("type", "modal"),
                "blocks": [],
                "private_metadata": "",
                "callback_id": "",
                "external_id": "",
                "state": {"values": {}},
                "hash": "",
                "clear_on_close": False,
                "notify_on_close": False,
                **as_slack_echoes(view),
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
            return public(stored)

    def _root_of(self: SlackState, view_id: str | None) -> str:
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
            stored.update(as_slack_echoes(view))
            stored["hash"] = f"{self._epoch}.{self._next():08x}"
            stored["state"] = {"values": {}}
            self._touch()
            return public(stored)

    def publish_home(
        self: SlackState, view: dict[str, Any], user: str, hash_: str | None = None
    ) -> dict[str, Any]:
        """Publish ``user``'s Home tab: one view per user, replaced (``hash`` checked)."""
        with self.changed:
            current = self.home_of(user, public_only=False)
            if current is not None and hash_ and hash_ != current["hash"]:
                raise SlackError("hash_conflict")
            view_id = current["id"] if current else f"V{self._next():08d}"
            stored = {
                "id": view_id,
                "team_id": TEAM_ID,
                "app_installed_team_id": TEAM_ID,
                "type": "home",
                "blocks": [],
                "private_metadata": "",
                "callback_id": "",
                "external_id": "",
                "state": {"values": {}},
                "hash": f"{self._epoch}.{self._next():08x}",
                **as_slack_echoes(view),
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "_user": user,
                "_open": False,  # a tab, not a modal on screen
                "_home": True,
            }
            self.views[view_id] = stored
            self._touch()
            return public(stored)

    def home_of(self: SlackState, user: str, *, public_only: bool = True) -> dict[str, Any] | None:
        """The Home tab last published for ``user``, or None."""
        with self.changed:
            for stored in self.views.values():
                if stored.get("_home") and stored.get("_user") == user:
                    return public(stored) if public_only else stored
            return None

    def set_view_state(self: SlackState, view_id: str, values: dict[str, Any]) -> None:
        with self.changed:
            self.views[view_id]["state"] = {"values": copy.deepcopy(values)}
            self._touch()

    def close_view(self: SlackState, view_id: str, *, all_in_stack: bool = False) -> None:
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

    def view(self: SlackState, view_id: str) -> dict[str, Any]:
        with self.changed:
            return public(self.views[view_id])

    def open_views(self: SlackState, user: str | None = None) -> list[dict[str, Any]]:
        """Views still on screen (the top of each stack last), optionally for one user."""
        with self.changed:
            return [
                public(v)
                for v in self.views.values()
                if v["_open"] and (user is None or v["_user"] == user)
            ]


def as_slack_echoes(view: dict[str, Any]) -> dict[str, Any]:
    """The view as Slack stores and echoes it: `close`/`submit` null when the app left them
    out, and every input block with its defaults spelled out (`optional: false`,
    `dispatch_action: false`), so a bot reading the echo sees what a real payload holds.

    https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
    """
    echoed = copy.deepcopy(view)
    echoed.setdefault("close", None)
    echoed.setdefault("submit", None)
    blocks = []
    for block in echoed.get("blocks") or []:
        if block.get("type") == "input":
            block = {"optional": False, "dispatch_action": False, **block}
        blocks.append(block)
    echoed["blocks"] = blocks
    return echoed
