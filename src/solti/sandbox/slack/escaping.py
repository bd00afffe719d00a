"""Slash command text as Slack sends it with ``should_escape: true`` (see manifest.yml).

Slack rewrites what a person typed before the app sees it: ``&``, ``<`` and ``>`` become
``&amp;``, ``&lt;`` and ``&gt;``; links become ``<https://…>``; e-mail addresses
``<mailto:a@b|a@b>``; ``@here``/``@channel``/``@everyone`` ``<!here>`` …; a person's ``@name``
``<@U…|name>``; a user group's ``@handle`` ``<!subteam^S…|@handle>``; ``#channel``
``<#C…|channel>``. Names Slack does not know stay text. Pure: it reads the workspace given.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["escape_entities", "escape_slash_text"]

_SPECIAL = re.compile(
    r"(?P<url>https?://[^\s<>]+)"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?<![\w@#])(?P<mention>[@#][\w.-]+)"
)
_BROADCASTS = ("here", "channel", "everyone")
_TRAILING = ".,;:!?)"


def escape_entities(text: str) -> str:
    """The three characters Slack turns into HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_slash_text(
    text: str,
    users: dict[str, dict[str, Any]],
    usergroups: dict[str, dict[str, Any]],
    channels: dict[str, dict[str, Any]],
) -> str:
    """``text`` as typed -> the ``text`` field Slack posts to the app."""
    out: list[str] = []
    position = 0
    for match in _SPECIAL.finditer(text):
        token = match.group(0)
        kept = len(token.rstrip(_TRAILING))
        token, tail = token[:kept], token[kept:]
        out.append(escape_entities(text[position : match.start()]))
        out.append(_markup(match.lastgroup or "", token, users, usergroups, channels))
        out.append(escape_entities(tail))
        position = match.end()
    out.append(escape_entities(text[position:]))
    return "".join(out)


def _markup(
    kind: str,
    token: str,
    users: dict[str, dict[str, Any]],
    usergroups: dict[str, dict[str, Any]],
    channels: dict[str, dict[str, Any]],
) -> str:
    if kind == "url":
        return f"<{escape_entities(token)}>"
    if kind == "email":
        return f"<mailto:{token}|{token}>"
    sigil, name = token[0], token[1:]
    if sigil == "#":
        for cid, info in channels.items():
            if info.get("name") == name and cid.startswith(("C", "G")):
                return f"<#{cid}|{name}>"
        return escape_entities(token)
    if name in _BROADCASTS:
        return f"<!{name}>"
    for uid, info in users.items():
        if info.get("name") == name:
            return f"<@{uid}|{name}>"
    for gid, info in usergroups.items():
        if info.get("handle") == name:
            return f"<!subteam^{gid}|@{name}>"
    return escape_entities(token)
