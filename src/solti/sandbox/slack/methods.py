"""The Web API methods the stand-in answers, each a function of (state, params).

Answers follow the shapes of Slack's responses (java-slack-sdk's `json-logs/samples/api`)
and its error codes, so the bot's error handling is exercised against what Slack really says.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

from solti.sandbox.slack import blockkit
from solti.sandbox.slack.store import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    SlackError,
    SlackState,
)

MAX_TEXT = 40_000

Handler = Callable[[SlackState, dict[str, Any]], dict[str, Any]]


def _json_arg(params: dict[str, Any], key: str) -> Any:
    """Form-encoded calls carry blocks and views as JSON strings; JSON calls as objects."""
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SlackError(f"invalid_{key}" if key != "view" else "invalid_arguments") from exc
    return value


def _required(params: dict[str, Any], key: str, code: str | None = None) -> Any:
    value = params.get(key)
    if value in (None, ""):
        raise SlackError(code or "invalid_arguments", missing=key)
    return value


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _message_fields(params: dict[str, Any], *, need_content: bool = True) -> dict[str, Any]:
    """text/blocks/attachments of a chat.* call, validated as Slack validates them."""
    fields: dict[str, Any] = {}
    text = params.get("text")
    if text is not None:
        if len(str(text)) > MAX_TEXT:
            raise SlackError("msg_too_long")
        fields["text"] = str(text)
    blocks = _json_arg(params, "blocks")
    if blocks is not None:
        errors = blockkit.validate_blocks(blocks)
        if errors:
            raise SlackError("invalid_blocks", errors=errors)
        fields["blocks"] = _with_ids(blocks)
    attachments = _json_arg(params, "attachments")
    if attachments is not None:
        fields["attachments"] = attachments
    if need_content and not fields.get("text") and not blocks and not attachments:
        raise SlackError("no_text")
    fields.setdefault("text", "")
    for key in ("thread_ts", "metadata"):
        if params.get(key):
            fields[key] = params[key]
    return fields


def _with_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in block_id and action_id where the sender left them out, as Slack does."""
    filled = []
    for index, block in enumerate(blocks):
        block = dict(block)
        digest = zlib.crc32(json.dumps(block, sort_keys=True).encode()) % 10**4
        block.setdefault("block_id", f"b{index:02d}{digest:04d}")
        elements = block.get("elements") if block.get("type") == "actions" else None
        if elements is not None:
            block["elements"] = [
                {**e, "action_id": e.get("action_id") or f"{block['block_id']}-a{i}"}
                for i, e in enumerate(elements)
            ]
        for key in ("accessory", "element"):
            element = block.get(key)
            if isinstance(element, dict) and "action_id" not in element:
                block[key] = {**element, "action_id": f"{block['block_id']}-{key}"}
        filled.append(block)
    return filled


def _channel(state: SlackState, params: dict[str, Any]) -> str:
    """A conversation the bot can see: a public channel, or one it is a member of.

    Private channels and DMs the bot is not in do not exist for it (`channel_not_found`).
    """
    channel = state.resolve_channel(str(_required(params, "channel", "channel_not_found")))
    if channel not in state.channels:
        raise SlackError("channel_not_found")
    if not channel.startswith("C") and not state.is_bot_member(channel):
        raise SlackError("channel_not_found")
    return channel


def _posting_channel(state: SlackState, params: dict[str, Any]) -> str:
    """Where the bot may post, as Slack decides: a conversation it is in, or a public channel
    with `chat:write.public` (else `not_in_channel`). A user id is the bot's DM with them."""
    channel = _channel(state, params)
    if not state.is_bot_member(channel) and "chat:write.public" not in state.scopes:
        raise SlackError("not_in_channel")
    return channel


def _need_scope(state: SlackState, scope: str) -> None:
    if scope not in state.scopes:
        raise SlackError("missing_scope", needed=scope, provided=",".join(sorted(state.scopes)))


def auth_test(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": "Example",
        "user": "solti",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }
    if state.grid is not None:
        answer["enterprise_id"] = state.grid.enterprise_id
        answer["is_enterprise_install"] = state.grid.org_wide
    return answer


def api_test(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    return {"args": {k: v for k, v in params.items() if k != "token"}}


def chat_post_message(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    channel = _posting_channel(state, params)
    fields = _message_fields(params)
    if fields.get("thread_ts") and state.revisions(channel, fields["thread_ts"]) == []:
        raise SlackError("thread_not_found")
    message = state.post_message(channel, fields)
    return {"channel": channel, "ts": message["ts"], "message": message}


def chat_update(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(state, params)
    ts = str(_required(params, "ts", "message_not_found"))
    if not any(key in params for key in ("text", "blocks", "attachments")):
        raise SlackError("no_text")
    fields = _message_fields(params, need_content=False)
    fields = {k: v for k, v in fields.items() if k in params or k == "blocks"}
    message = state.update_message(channel, ts, fields)
    return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}


def chat_delete(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(state, params)
    ts = str(_required(params, "ts", "message_not_found"))
    state.delete_message(channel, ts)
    return {"channel": channel, "ts": ts}


def chat_post_ephemeral(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    channel = _posting_channel(state, params)
    user = str(_required(params, "user", "user_not_found"))
    if user not in state.users:
        raise SlackError("user_not_found")
    if user not in state.channel_info(channel)["members"]:
        raise SlackError("user_not_in_channel")
    return {"message_ts": state.post_ephemeral(channel, user, _message_fields(params))}


def chat_get_permalink(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(state, params)
    ts = str(_required(params, "message_ts", "message_not_found"))
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    return {"channel": channel, "permalink": link}


def _view_arg(params: dict[str, Any]) -> dict[str, Any]:
    view = _json_arg(params, "view")
    errors = blockkit.validate_view(view)
    if errors:
        raise SlackError("invalid_arguments", errors=errors)
    view = dict(view)
    view["blocks"] = _with_ids(view.get("blocks", []))
    return view


def views_open(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    view = _view_arg(params)
    user = state.spend_trigger(params.get("trigger_id"))
    return {"view": state.open_view(view, user)}


def views_push(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    view = _view_arg(params)
    user = state.spend_trigger(params.get("trigger_id"))
    parents = state.open_views(user)
    if not parents:
        raise SlackError("not_found")
    return {"view": state.open_view(view, user, parent=parents[-1]["id"])}


def views_update(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    view = _view_arg(params)
    view_id = params.get("view_id") or None
    external_id = params.get("external_id") or None
    if view_id is None and external_id is None:
        raise SlackError("invalid_arguments")
    return {"view": state.update_view(view, view_id, external_id, params.get("hash") or None)}


def views_publish(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """The Home tab of one user (``user_id``): a ``home`` view, replaced on each publish."""
    view = _view_arg(params)
    if view.get("type") != "home":
        raise SlackError("invalid_arguments", errors=["views.publish takes a home view"])
    user = str(params.get("user_id") or "")
    if user not in state.users:
        raise SlackError("user_not_found")
    return {"view": state.publish_home(view, user, params.get("hash") or None)}


def users_info(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    user = state.users.get(str(params.get("user", "")))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user}


def users_list(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    return {"members": list(state.users.values()), "response_metadata": {"next_cursor": ""}}


def usergroups_users_list(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    group = state.usergroups.get(str(params.get("usergroup", "")))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group["users"])}


def usergroups_list(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    groups = [
        {"id": g["id"], "handle": g["handle"], "name": g["handle"], "users": g["users"]}
        for g in state.usergroups.values()
    ]
    return {"usergroups": groups}


def conversations_info(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    info = state.channel_info(_channel(state, params))
    return {"channel": {k: v for k, v in info.items() if k != "members"}}


def conversations_members(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    members = state.channel_info(_channel(state, params))["members"]
    return {"members": members, "response_metadata": {"next_cursor": ""}}


def conversations_open(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """A DM with a person: needs `im:write`, which the manifest does not ask for."""
    _need_scope(state, "im:write")
    users = str(params.get("users") or params.get("channel") or "")
    if not users:
        raise SlackError("users_list_not_supplied")
    channel = state.resolve_channel(users.split(",")[0])
    return {"channel": {"id": channel}}


def conversations_join(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Join a public channel: needs `channels:join`, which the manifest does not ask for."""
    _need_scope(state, "channels:join")
    channel = _channel(state, params)
    if not channel.startswith("C"):
        raise SlackError("method_not_supported_for_channel_type")
    state.join(channel)
    info = state.channel_info(channel)
    return {"channel": {k: v for k, v in info.items() if k != "members"}}


def conversations_history(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(state, params)
    newest_first = list(reversed(state.messages(channel)))
    return {"messages": newest_first, "has_more": False}


def bots_info(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    return {"bot": {"id": BOT_ID, "app_id": APP_ID, "user_id": BOT_USER_ID, "name": "solti"}}


METHODS: dict[str, Handler] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "bots.info": bots_info,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
    "conversations.open": conversations_open,
    "conversations.join": conversations_join,
    "conversations.history": conversations_history,
}

# Methods that work without a token (as on Slack).
NO_AUTH = frozenset({"api.test"})

# Methods that take an app-level token (`xapp-`) and nothing else.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def apps_connections_open(socket_url: str) -> dict[str, Any]:
    """Socket Mode: the websocket URL to connect to (a fresh single-use ticket in it)."""
    return {"url": socket_url}


def app_token_error(token: str) -> str | None:
    """Slack's answer to a wrong token for an app-token method, or None when it is right."""
    if not token:
        return "not_authed"
    if not token.startswith("xapp-"):
        return "not_allowed_token_type"
    return None
