"""Small Block Kit pieces shared by every builder, with Slack's limits applied once.

Builders return plain dicts (what the Web API receives); the Slack stand-in validates them
against the vendored schema in tests, and the clipping here keeps long values (error texts,
VM names) from ever producing an ``invalid_blocks`` answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from solti.bot.cluster_context import button_value

Block = dict[str, Any]

SECTION_TEXT_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
CONTEXT_MAX = 10
MESSAGE_BLOCKS_MAX = 50


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis so Slack never rejects it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_ID = re.compile(r"^[UWB][A-Z0-9]{2,20}$")


def mention(user_id: str | None) -> str:
    """``<@U…>`` so Slack renders a mention; anything not shaped like a user id is escaped.

    Mentions are built here, never passed through ``escape`` (which would show the raw
    ``&lt;@U…&gt;`` to people), and never built from text a person typed.
    """
    if user_id and _SLACK_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text or " ", limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text or " ", limit)}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def fields(pairs: Iterable[tuple[str, str]]) -> Block:
    """A section of label/value fields (at most 10, Slack's limit)."""
    items = [mrkdwn(f"*{label}*\n{value}", FIELD_MAX) for label, value in list(pairs)[:10]]
    return {"type": "section", "fields": items}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:CONTEXT_MAX]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": clip(button_value(value), 2000),  # `500@lab` with several clusters
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str = "Cancel") -> dict[str, Any]:
    return {
        "title": plain(title, 100),
        "text": mrkdwn(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
        "style": "danger",
    }


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def when(moment: datetime | None) -> str:
    """A date people in every timezone read the same way (Slack renders it locally)."""
    if moment is None:
        return "unknown"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


def age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "unknown age"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    days = (now - moment).days
    if days <= 0:
        return "today"
    return "1 day old" if days == 1 else f"{days} days old"


def size_text(value: Any) -> str:
    return str(value) if value is not None else "?"


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """The kwargs for chat.postMessage/update: a text fallback for notifications plus blocks."""
    return {"text": clip(text, 3000), "blocks": blocks[:MESSAGE_BLOCKS_MAX]}
