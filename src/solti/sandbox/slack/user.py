"""`SlackUser`: plays Slack towards the bot over real HTTP, with signed requests.

It sends what Slack sends when a person types a slash command, clicks an element or submits
a modal (the payload shapes of Slack's interactivity docs), signed with the app's signing
secret, and tells the stand-in what Slack's client would know afterwards (a view closed or
replaced after a submission's ack). Replies are plain `requests.Response` objects.

Like Slack it waits 3 s for the acknowledgement (``ACK_TIMEOUT_SECONDS``), then gives up: the
reply is then a 504 whose ``reason`` is ``operation_timeout``, the stand-in records it
(``SlackStandIn.ack_timeouts``; the test harnesses fail a test that caused one), a slash
command's person sees Slack's error, and the request's response_url takes no more posts.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.parse
from dataclasses import dataclass, replace
from typing import Any, Literal

import requests
from slack_sdk.signature import SignatureVerifier

from solti.sandbox.slack.acks import (
    operation_timeout,
    payload_subject,
    response_url_key,
    timed_out,
)
from solti.sandbox.slack.blockkit import interactive_elements
from solti.sandbox.slack.escaping import escape_slash_text
from solti.sandbox.slack.standin import SlackStandIn
from solti.sandbox.slack.store import ACK_TIMEOUT_SECONDS, APP_ID, TEAM_DOMAIN
from solti.sandbox.slack.viewstate import SubmitBlocked, build_state, option_for

__all__ = ["SlackUser", "SubmitBlocked", "timed_out"]

Signing = Literal["good", "bad", "missing", "stale"]
VERIFICATION_TOKEN = "legacy-verification-token"


def refuse_retry_of(kind: str) -> None:
    """Slack retries only Events API deliveries (docs.slack.dev/apis/events-api/#retries:
    up to three times, with ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason``). A slash
    command or an interaction that is not acked in 3 s is never sent again: the person sees
    ``operation_timeout`` instead. A test asking for such a retry tests something Slack never
    does."""
    if kind != "event":
        raise ValueError(f"Slack never retries a {kind}: only Events API deliveries are retried")


@dataclass(frozen=True)
class SlackUser:
    """A person in the workspace, acting through Slack towards the bot at `bot_url`.

    `bot_url` is the full events endpoint (e.g. `http://127.0.0.1:PORT/slack/events`).
    """

    bot_url: str
    signing_secret: str
    standin: SlackStandIn
    team_id: str = "T0001"
    user_id: str = "U0ALICE"
    channel_id: str = "C0INFRA"
    timeout: float = ACK_TIMEOUT_SECONDS
    # Slack Connect: the person's own workspace when it is not the one they act in.
    user_team_id: str | None = None

    def as_user(self, user_id: str) -> SlackUser:
        return replace(self, user_id=user_id)

    def in_channel(self, channel_id: str) -> SlackUser:
        return replace(self, channel_id=channel_id)

    # -- wire ------------------------------------------------------------------------------

    def _post(
        self,
        body: str,
        *,
        sign: Signing = "good",
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        what: tuple[str, str] = ("request", ""),
        content_type: str = "application/x-www-form-urlencoded",
    ) -> requests.Response:
        timestamp = str(int(time.time()) - (600 if sign == "stale" else 0))
        headers = {"Content-Type": content_type}
        if sign != "missing":
            verifier = SignatureVerifier(self.signing_secret)
            signature = verifier.generate_signature(timestamp=timestamp, body=body) or ""
            if sign == "bad":
                signature = signature[:-4] + ("0000" if not signature.endswith("0000") else "1111")
            headers["X-Slack-Request-Timestamp"] = timestamp
            headers["X-Slack-Signature"] = signature
        if retry_num is not None:
            refuse_retry_of(what[0])
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        try:
            return requests.post(
                self.bot_url, data=body.encode(), headers=headers, timeout=self.timeout
            )
        except requests.ReadTimeout:
            self.standin.state.record_ack_timeout(*what)
            return operation_timeout(self.bot_url)

    def post_payload(self, payload: dict[str, Any], **wire: Any) -> requests.Response:
        """POST an interaction payload as Slack does: one form field `payload=<json>`."""
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        wire.setdefault("what", (str(payload.get("type")), payload_subject(payload)))
        key = response_url_key(payload.get("response_url"))
        reply = self._post(body, **wire)
        if timed_out(reply) and key:
            self.standin.state.expire_response_url(key)
        return reply

    def open_home(self, user: str | None = None, **wire: Any) -> requests.Response:
        """Open the app's Home tab: the ``app_home_opened`` event, as the Events API sends it."""
        who = self._user(user)
        body = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{self._key('home').replace('-', '')}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": who["id"],
                "channel": self.standin.state.resolve_channel(who["id"]),
                "tab": "home",
                "event_ts": self.standin.state.new_ts(),
            },
        }
        wire.setdefault("what", ("event", "app_home_opened"))
        return self._post(json.dumps(body), content_type="application/json", **wire)

    def _user(self, user: str | None) -> dict[str, Any]:
        user_id = user or self.user_id
        info = self.standin.state.ensure_user(user_id)
        return {
            "id": user_id,
            "username": info["name"],
            "name": info["name"],
            "team_id": self.user_team_id or self.team_id,
        }

    def _org(self) -> dict[str, Any]:
        """The Grid / org-wide fields every interaction payload carries (see ``GridOrg``)."""
        grid = self.standin.state.grid
        team: dict[str, Any] | None = {"id": self.team_id, "domain": TEAM_DOMAIN}
        if grid is None:
            return {"team": team, "enterprise": None, "is_enterprise_install": False}
        assert team is not None
        team["enterprise_id"] = grid.enterprise_id
        team["enterprise_name"] = grid.enterprise_name
        return {
            "team": None if grid.org_wide else team,
            "enterprise": {"id": grid.enterprise_id, "name": grid.enterprise_name},
            "is_enterprise_install": grid.org_wide,
        }

    def _key(self, prefix: str) -> str:
        return f"{prefix}-{self.standin.state.new_ts().replace('.', '-')}"

    # -- slash commands --------------------------------------------------------------------

    def slash(
        self,
        text: str,
        user: str | None = None,
        channel: str | None = None,
        command: str = "/solti",
        *,
        escaped: bool = False,
        **wire: Any,
    ) -> requests.Response:
        """Type `command text` in `channel` as `user`; returns the bot's HTTP reply (the ack).

        The text is sent as Slack sends it with ``should_escape: true`` (``escaping``): links,
        e-mails, mentions of known people, groups and channels as markup, ``& < >`` as
        entities. ``escaped=True``: ``text`` is already in that form and goes as is.
        """
        who = self._user(user)
        if not escaped:
            state = self.standin.state
            with state.changed:
                text = escape_slash_text(text, state.users, state.usergroups, state.channels)
        channel_id = channel or self.channel_id
        channel_info = self.standin.state.ensure_channel(channel_id, who["id"])
        key = self._key("cmd")
        response_url = self.standin.response_url(key, channel=channel_id, user=who["id"])
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_info["name"],
            "user_id": who["id"],
            "user_name": who["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            **self._org_form(),
            "trigger_id": self.standin.issue_trigger(who["id"]),
        }
        wire.setdefault("what", ("slash_command", f"{command} {text}"))
        reply = self._post(urllib.parse.urlencode(form), **wire)
        if timed_out(reply):
            self.standin.state.expire_response_url(key)
            self.standin.state.post_ephemeral(
                channel_id,
                who["id"],
                {"text": f'{command} failed with the error "operation_timeout"'},
            )
        elif reply.status_code == 200:
            self._show_command_ack(reply, channel_id, who["id"])
        return reply

    def _org_form(self) -> dict[str, str]:
        """A slash command's Grid fields: form strings, not objects."""
        grid = self.standin.state.grid
        if grid is None:
            return {}
        return {
            "enterprise_id": grid.enterprise_id,
            "enterprise_name": grid.enterprise_name,
            "is_enterprise_install": "true" if grid.org_wide else "false",
        }

    def _show_command_ack(self, reply: requests.Response, channel: str, user: str) -> None:
        """Show an ack with a body as Slack does: ephemeral, or in the channel if asked."""
        raw = reply.text.strip()
        if not raw:
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"text": raw}
        if not isinstance(body, dict):
            return
        fields = {k: body[k] for k in ("text", "blocks", "attachments") if k in body}
        if not fields:
            return
        fields.setdefault("text", "")
        state = self.standin.state
        if body.get("response_type") == "in_channel":
            state.post_message(channel, fields)
        else:
            state.post_ephemeral(channel, user, fields)

    # -- block actions ---------------------------------------------------------------------

    def click(
        self,
        target: dict[str, Any],
        action: str | int,
        user: str | None = None,
        *,
        option: str | None = None,
        **wire: Any,
    ) -> requests.Response:
        """Click (or choose in) an element of a message or view; sends `block_actions`.

        `target` is a message from the stand-in (`last_message`, `ephemerals`) or a view
        (`open_views`). `action` is an action_id, or the element's number (1-based, the
        renderer's numbering). `option` picks a select/overflow/radio option by value or text.
        """
        block, element = self._find_element(target, action)
        who = self._user(user)
        action_payload = self._action(block, element, option)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": who,
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.standin.issue_trigger(who["id"]),
            **self._org(),
            "actions": [action_payload],
        }
        if "root_view_id" in target:  # a view
            view = copy.deepcopy(target)
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        else:
            payload.update(self._message_context(target, who["id"]))
        return self.post_payload(payload, **wire)

    def _message_context(self, message: dict[str, Any], user_id: str) -> dict[str, Any]:
        channel_id = message.get("channel") or self.channel_id
        ephemeral = bool(message.get("_ephemeral"))
        channel = self.standin.state.ensure_channel(channel_id, user_id)
        response_url = self.standin.response_url(
            self._key("act"),
            channel=channel_id,
            user=user_id,
            message_ts=message["ts"],
            is_ephemeral=ephemeral,
        )
        context: dict[str, Any] = {
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": channel_id, "name": channel["name"]},
            "state": {"values": {}},
            "response_url": response_url,
        }
        if message.get("thread_ts"):  # a message in a thread (the parent or a reply)
            context["container"]["thread_ts"] = message["thread_ts"]
        if not ephemeral:
            context["message"] = {
                k: v for k, v in message.items() if k != "channel" and not k.startswith("_")
            }
        return context

    @staticmethod
    def _find_element(target: dict[str, Any], action: str | int) -> tuple[dict, dict]:
        found = list(interactive_elements(target.get("blocks") or []))
        if isinstance(action, int):
            if not 1 <= action <= len(found):
                raise LookupError(f"no element number {action}; there are {len(found)}")
            return found[action - 1]
        for block, element in found:
            if element.get("action_id") == action:
                return block, element
        ids = [e.get("action_id") for _, e in found]
        raise LookupError(f"no element with action_id {action!r}; found {ids}")

    @staticmethod
    def _action(block: dict, element: dict, option: str | None) -> dict[str, Any]:
        kind = element["type"]
        action: dict[str, Any] = {
            "type": kind,
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            "action_ts": f"{time.time():.6f}",
        }
        if kind == "button":
            action["text"] = element.get("text")
            for key in ("value", "style", "url", "confirm"):
                if key in element:
                    action[key] = element[key]
        elif kind in ("static_select", "overflow", "radio_buttons"):
            action["selected_option"] = option_for(element, option)
        elif kind in ("multi_static_select", "checkboxes"):
            action["selected_options"] = [option_for(element, option)]
        elif option is not None:
            key = {
                "datepicker": "selected_date",
                "timepicker": "selected_time",
                "users_select": "selected_user",
                "conversations_select": "selected_conversation",
                "channels_select": "selected_channel",
            }.get(kind, "value")
            action[key] = option
        return action

    # -- views -----------------------------------------------------------------------------

    def submit_view(
        self,
        view: dict[str, Any] | str,
        values: dict[str, Any] | None = None,
        user: str | None = None,
        **wire: Any,
    ) -> requests.Response:
        """Fill the view's inputs and press Submit; sends `view_submission`.

        `values` maps block_id -> value, or block_id -> {action_id: value}; a value is what a
        person would enter (text, a number as text, an option's value or text, a list for
        multi-choice). Inputs not given keep their initial value. Raises `SubmitBlocked` when
        Slack's client itself would refuse (a required field empty, too long, not a number).
        After the ack the stand-in is told what the client does: close, update, push, clear.
        """
        stored = self.standin.state.view(view if isinstance(view, str) else view["id"])
        state_values = build_state(stored, values or {})
        self.standin.state.set_view_state(stored["id"], state_values)
        who = self._user(user)
        payload = {
            "type": "view_submission",
            **self._org(),
            "user": who,
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.standin.issue_trigger(who["id"]),
            "view": self.standin.state.view(stored["id"]),
            "response_urls": [],
        }
        reply = self.post_payload(payload, **wire)
        if reply.status_code == 200 and not timed_out(reply):
            self._apply_ack(stored["id"], reply, who["id"])
        return reply

    def _apply_ack(self, view_id: str, reply: requests.Response, user_id: str) -> None:
        try:
            body = reply.json() if reply.content.strip() else {}
        except ValueError:
            body = {}
        action = body.get("response_action") if isinstance(body, dict) else None
        state = self.standin.state
        if action == "errors":
            return
        if action == "update":
            state.update_view(body["view"], view_id, None, None)
        elif action == "push":
            state.open_view(body["view"], user_id, parent=view_id)
        elif action == "clear":
            state.close_view(view_id, all_in_stack=True)
        else:
            state.close_view(view_id)

    def close_view(
        self, view: dict[str, Any] | str, user: str | None = None, **wire: Any
    ) -> requests.Response | None:
        """Press Cancel; sends `view_closed` only when the view asked (`notify_on_close`)."""
        stored = self.standin.state.view(view if isinstance(view, str) else view["id"])
        self.standin.state.close_view(stored["id"])
        if not stored.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            **self._org(),
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "view": stored,
            "is_cleared": False,
        }
        return self.post_payload(payload, **wire)
