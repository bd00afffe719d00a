"""`solti check`: say what is wrong with a set-up before anybody tries to use it.

Each item prints one line, and a failing item says how to fix it, because an operator reads
this on day one with nothing else to go on. The checks only read (Slack `auth.test`, Proxmox
GETs, a rolled-back SQLite write), so running it against production is safe.

Outcomes: `ok`, `warn` (works, but not as it should in production, e.g. TLS verification off),
`skip` (not applicable or cannot be checked, with the reason) and `fail`. The exit code is 0
only when nothing failed; `--strict` also fails on `warn` and `skip`, for a set-up that must
use everything (Slack included).

The pure parts live in `check_report` (results, id shapes, the report) and the Proxmox items in
`check_proxmox` (with the privilege table); this module reads the configuration, Slack, the DB.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from solti.provisioning.cli.check_proxmox import check_proxmox
from solti.provisioning.cli.check_report import (
    CheckConfig,
    CheckResult,
    format_report,
    policy_id_results,
)
from solti.provisioning.cli.context import guarded, json_option

__all__ = ["REQUIRED_SLACK_SCOPES", "check_command", "check_database", "check_slack", "run_checks"]

# The bot token scopes of manifest.yml (oauth_config.scopes.bot); a test keeps them equal.
REQUIRED_SLACK_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "usergroups:read",
)


# --- configuration --------------------------------------------------------------------------


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def load_check_config(environ: Mapping[str, str]) -> tuple[CheckConfig, list[CheckResult]]:
    """Read the environment and the policy file; problems become report lines, not crashes."""
    from solti.provisioning.settings_sources import environment_with_files

    environ = environment_with_files(environ)  # values in SOLTI_ENV_FILE or Docker secrets too
    results: list[CheckResult] = []
    config = CheckConfig(
        proxmox_url=environ.get("PROXMOX_URL") or None,
        token_id=environ.get("PROXMOX_TOKEN_ID") or None,
        token_secret=environ.get("PROXMOX_TOKEN_SECRET") or None,
        verify_ssl=_flag(environ.get("PROXMOX_VERIFY_SSL"), True),
        ca_bundle=environ.get("PROXMOX_CA_BUNDLE") or None,
        slack_bot_token=environ.get("SLACK_BOT_TOKEN") or None,
        slack_app_token=environ.get("SLACK_APP_TOKEN") or None,
        slack_api_url=environ.get("SLACK_API_URL") or "https://slack.com/api/",
        db_path=Path(environ.get("SOLTI_DB") or "solti.db"),
        config_path=environ.get("SOLTI_CONFIG") or None,
    )
    if not config.config_path:
        _apply_policy(config, _load_policy(None))
        results.append(
            CheckResult(
                "policy.file",
                "ok",
                "SOLTI_CONFIG not set: built-in defaults (no approvers, any channel)",
            )
        )
        return config, results
    try:
        policy = _load_policy(Path(config.config_path))
    except Exception as exc:  # the loader's errors name the key; show them as they are
        results.append(
            CheckResult(
                "policy.file",
                "fail",
                f"{config.config_path}: {exc}",
                "fix the key named above (docs/configuration.md lists every key)",
            )
        )
        return config, results
    _apply_policy(config, policy)
    results.append(CheckResult("policy.file", "ok", f"{config.config_path} loaded"))
    return config, results


def _load_policy(path: Path | None) -> Any:
    from solti.provisioning.config import load_policy

    return load_policy(path)


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, Mapping) else getattr(obj, part, None)
    return obj


def _apply_policy(config: CheckConfig, policy: Any) -> None:
    config.image_storage = _get(policy, "defaults.image_storage")
    config.vm_storage = _get(policy, "defaults.vm_storage")
    config.bridge = _get(policy, "defaults.bridge")
    config.approvers = [str(v) for v in _get(policy, "approvers") or []]
    config.admins = [str(v) for v in _get(policy, "admins") or []]
    channels = {
        "approvals_channel": _get(policy, "approvals_channel"),
        "reports.channel": _get(policy, "reports.channel"),
    }
    for index, channel in enumerate(_get(policy, "allowed_channels") or []):
        channels[f"allowed_channels[{index}]"] = channel
    config.channels = {key: str(value) for key, value in channels.items() if value}


# --- Slack ----------------------------------------------------------------------------------


def check_slack(config: CheckConfig) -> list[CheckResult]:
    """auth.test with the bot token (scopes from the X-OAuth-Scopes header), then Socket Mode."""
    if not config.slack_bot_token:
        return [
            CheckResult(
                "slack.token",
                "skip",
                "SLACK_BOT_TOKEN not set: only the operator CLI can be used",
                "set SLACK_BOT_TOKEN (xoxb-…) to run `solti bot` (docs/slack-app.md)",
            )
        ]
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    base_url = (
        config.slack_api_url if config.slack_api_url.endswith("/") else config.slack_api_url + "/"
    )
    client = WebClient(token=config.slack_bot_token, base_url=base_url, timeout=10)
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
    results = [
        CheckResult(
            "slack.token",
            "ok",
            f"bot {response.get('user', '?')} in workspace {response.get('team', '?')}",
        )
    ]
    headers = {key.lower(): value for key, value in (response.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    raw = raw[0] if isinstance(raw, list) else raw
    if raw is None:
        results.append(
            CheckResult("slack.scopes", "skip", "Slack did not report the token's scopes")
        )
    else:
        granted = {scope.strip() for scope in str(raw).split(",") if scope.strip()}
        missing = [scope for scope in REQUIRED_SLACK_SCOPES if scope not in granted]
        if missing:
            results.append(
                CheckResult(
                    "slack.scopes",
                    "fail",
                    f"bot token lacks scopes: {', '.join(missing)}",
                    "add them under OAuth & Permissions (or update the app from manifest.yml) "
                    "and reinstall the app",
                )
            )
        else:
            results.append(
                CheckResult("slack.scopes", "ok", ", ".join(REQUIRED_SLACK_SCOPES) + " granted")
            )
    results.append(_check_socket_mode(config, base_url))
    return results


def _check_socket_mode(config: CheckConfig, base_url: str) -> CheckResult:
    if not config.slack_app_token:
        return CheckResult(
            "slack.socket_mode",
            "skip",
            "SLACK_APP_TOKEN not set: the bot runs in HTTP mode (needs SLACK_SIGNING_SECRET)",
        )
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    client = WebClient(token=config.slack_app_token, base_url=base_url, timeout=10)
    try:
        client.apps_connections_open(app_token=config.slack_app_token)
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


# --- database -------------------------------------------------------------------------------


def check_database(path: Path) -> CheckResult:
    """A write transaction that is rolled back: proves the file and its directory are writable."""
    directory = path.parent if str(path.parent) else Path(".")
    fix = f"create {directory} and make it writable by the user running solti (SOLTI_DB)"
    if not directory.is_dir():
        return CheckResult("database", "fail", f"directory {directory} does not exist", fix)
    # WAL mode writes solti.db-wal and -shm next to the file.
    if not os.access(directory, os.W_OK):
        return CheckResult("database", "fail", f"directory {directory} is not writable", fix)
    if not path.exists():
        return CheckResult("database", "ok", f"{path} will be created on first use")
    try:
        connection = sqlite3.connect(path, timeout=5)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return CheckResult("database", "fail", f"{path}: {exc}", fix)
    return CheckResult("database", "ok", f"{path} is writable")


# --- the command ----------------------------------------------------------------------------


def run_checks(environ: Mapping[str, str]) -> list[CheckResult]:
    """Every item in report order; never raises for a bad set-up."""
    config, results = load_check_config(environ)
    if results and results[-1].status == "ok":
        results.extend(policy_id_results(config))
    results.append(check_database(config.db_path))
    results.extend(check_proxmox(config))
    results.extend(check_slack(config))
    return results


@click.command("check")
@json_option
@click.option("--strict", is_flag=True, help="Fail on warnings and skipped items too.")
@guarded
def check_command(as_json: bool, strict: bool) -> None:
    """Check the configuration, Slack, Proxmox VE and the database; exit 0 when all pass."""
    results = run_checks(os.environ)
    failing = {"fail", "warn", "skip"} if strict else {"fail"}
    passed = not any(result.status in failing for result in results)
    if as_json:
        click.echo(json.dumps({"ok": passed, "checks": [asdict(r) for r in results]}, indent=2))
    else:
        click.echo(format_report(results))
    if not passed:
        failed = sum(result.status in failing for result in results)
        click.echo(f"solti check: {failed} item(s) need attention", err=True)
        sys.exit(1)
