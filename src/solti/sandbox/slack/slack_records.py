"""Records and constants of the Slack stand-in: workspace ids, errors, calls, response posts.

Shared by the state (``store``) and its parts (``views_store``, ``response_urls``) and by the
HTTP layer, so none of them imports another to reach these.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

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
    "public",
]

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0789"
TEAM_ID = "T0001"
TEAM_DOMAIN = "example"
TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
# Slack waits this long for the app's HTTP 200, then shows the person `operation_timeout`.
ACK_TIMEOUT_SECONDS = 3.0
MAX_VIEW_STACK = 3
# The bot token's scopes: those of the repository's manifest.yml (a test keeps them equal), so
# a method the app has no scope for answers `missing_scope` here as on Slack.
BOT_SCOPES = frozenset({"commands", "chat:write", "chat:write.public", "usergroups:read"})


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


@dataclass(frozen=True)
class GridOrg:
    """An Enterprise Grid organisation the workspace belongs to (``SlackStandIn(grid=...)``).

    Payloads then carry an ``enterprise`` object (and ``enterprise_id`` in slash commands);
    with ``org_wide`` the app is installed on the whole org: ``is_enterprise_install`` is
    true and interaction payloads say ``team: null``.
    https://docs.slack.dev/enterprise-grid (org-wide apps)
    """

    enterprise_id: str = "E0001"
    enterprise_name: str = "Example Org"
    org_wide: bool = True


@dataclass
class AckTimeout:
    """A request the app did not acknowledge within ``ACK_TIMEOUT_SECONDS``: Slack gave up."""

    kind: str  # "slash_command", "block_actions", "view_submission", ...
    what: str  # the command text, the action id, the view's callback id


@dataclass
class ResponsePost:
    """One POST to a response_url."""

    key: str
    body: dict[str, Any]
    status: int


def public(message: dict[str, Any]) -> dict[str, Any]:
    """The message as Slack shows it (internal keys dropped)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if not k.startswith("_")}
