"""The Slack items of `solti check`: the bot token, its scopes, and Socket Mode.

The bot's, because only the bot talks to Slack (provisioning never imports slack_sdk);
`solti.check_command` runs these after the provisioning items. They only read: `auth.test` and
`apps.connections.open` (which hands out a URL and opens nothing until it is dialled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from solti.provisioning.cli.check_report import CheckResult

__all__ = ["REQUIRED_SLACK_SCOPES", "SlackCheckConfig", "check_slack"]

# The bot token scopes of manifest.yml (oauth_config.scopes.bot); a test keeps them equal.
REQUIRED_SLACK_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "usergroups:read",
)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackCheckConfig:
    """The Slack settings the checks read; unset tokens make their items `skip`."""

    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_SLACK_API_URL

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SlackCheckConfig:
        """`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`, `SLACK_API_URL`, as `solti bot` reads them."""
        return cls(
            bot_token=environ.get("SLACK_BOT_TOKEN") or None,
            app_token=environ.get("SLACK_APP_TOKEN") or None,
            api_url=environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        )


def check_slack(config: SlackCheckConfig) -> list[CheckResult]:
    """auth.test with the bot token (scopes from the X-OAuth-Scopes header), then Socket Mode."""
    if not config.bot_token:
        return [
            CheckResult(
                "slack.token",
                "skip",
                "SLACK_BOT_TOKEN not set: only the operator CLI can be used",
                "set SLACK_BOT_TOKEN (xoxb-…) to run `solti bot` (docs/slack-app.md)",
            )
        ]
    # Imported here, as every verb imports only what it runs: `solti check --help` need not
    # load the Slack SDK.
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    base_url = config.api_url if config.api_url.endswith("/") else config.api_url + "/"
    client = WebClient(token=config.bot_token, base_url=base_url, timeout=10)
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error")
        return [
            CheckResult(
                "slack.token",
                "fail",
                f"auth.test refused the bot token: {error}",
                "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page "
                "into SLACK_BOT_TOKEN; reinstall the app if it was revoked",
            )
        ]
    except (SlackClientError, OSError) as exc:
        return [
            CheckResult(
                "slack.token",
                "fail",
                f"cannot reach the Slack Web API at {base_url} ({type(exc).__name__})",
                "check network access to slack.com (or SLACK_API_URL)",
            )
        ]
    who = f"bot {response.get('user', '?')} in workspace {response.get('team', '?')}"
    return [
        CheckResult("slack.token", "ok", who),
        _check_scopes(response.headers or {}),
        _check_socket_mode(config, base_url),
    ]


def _check_scopes(response_headers: dict[str, Any]) -> CheckResult:
    """The scopes Slack reports granted (``X-OAuth-Scopes``) against what the bot needs."""
    headers = {key.lower(): value for key, value in response_headers.items()}
    raw = headers.get("x-oauth-scopes")
    raw = raw[0] if isinstance(raw, list) else raw
    if raw is None:
        return CheckResult("slack.scopes", "skip", "Slack did not report the token's scopes")
    granted = {scope.strip() for scope in str(raw).split(",") if scope.strip()}
    missing = [scope for scope in REQUIRED_SLACK_SCOPES if scope not in granted]
    if missing:
        return CheckResult(
            "slack.scopes",
            "fail",
            f"bot token lacks scopes: {', '.join(missing)}",
            "add them under OAuth & Permissions (or update the app from manifest.yml) "
            "and reinstall the app",
        )
    return CheckResult("slack.scopes", "ok", ", ".join(REQUIRED_SLACK_SCOPES) + " granted")


def _check_socket_mode(config: SlackCheckConfig, base_url: str) -> CheckResult:
    if not config.app_token:
        return CheckResult(
            "slack.socket_mode",
            "skip",
            "SLACK_APP_TOKEN not set: the bot runs in HTTP mode (needs SLACK_SIGNING_SECRET)",
        )
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    client = WebClient(token=config.app_token, base_url=base_url, timeout=10)
    try:
        client.apps_connections_open(app_token=config.app_token)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error")
        return CheckResult(
            "slack.socket_mode",
            "fail",
            f"apps.connections.open refused the app token: {error}",
            "create an app-level token with connections:write (Basic Information) and enable "
            "Socket Mode; put it in SLACK_APP_TOKEN",
        )
    except (SlackClientError, OSError) as exc:
        return CheckResult(
            "slack.socket_mode",
            "fail",
            f"cannot reach the Slack Web API ({type(exc).__name__})",
            "check network access to slack.com (or SLACK_API_URL)",
        )
    return CheckResult("slack.socket_mode", "ok", "app token opens a Socket Mode connection")
