"""Slash text back to what the person typed (Slack escapes it: ``should_escape: true``).

Slack sends ``&amp;``, ``&lt;``, ``&gt;`` for ``& < >`` and markup for what it recognised:
``<https://…>`` / ``<http://example.com|example.com>`` for links, ``<mailto:a@b|a@b>`` for
e-mails, ``<!here>``, ``<!subteam^S…|@team>``, ``<#C…|infra>``. The grammar wants the typed
words (a key comment must be ``alice@example.com``, not its markup). A person's mention
``<@U…|alice>`` is kept: ``--user`` reads the id from it.
Spec: https://docs.slack.dev/interactivity/implementing-slash-commands (escaping) and
https://docs.slack.dev/messaging/formatting-message-text (escaping, links, mentions).
"""

from __future__ import annotations

import re

__all__ = ["unescape"]

_MARKUP = re.compile(r"<([^<>]*)>")


def _typed(match: re.Match[str]) -> str:
    body = match.group(1)
    if body.startswith("@"):
        return match.group(0)
    target, _, label = body.partition("|")
    if target.startswith("#"):
        return f"#{label}" if label else target
    if target.startswith("!subteam^"):
        return label or "@" + target.removeprefix("!subteam^")
    if target.startswith("!"):
        return "@" + target[1:].split("^")[0]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return label or target


def unescape(text: str) -> str:
    """``text`` as Slack sent it -> as typed, person mentions kept as markup."""
    plain = _MARKUP.sub(_typed, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
