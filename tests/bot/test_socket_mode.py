"""Socket Mode: chosen when SLACK_APP_TOKEN is set, refused at start-up when it is wrong.

The first test dispatches an envelope as the Socket Mode adapter does
(``BoltRequest(mode="socket_mode")``, no signature to check). The round trip over a real
websocket is in ``test_socket_mode_roundtrip.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from slack_bolt import BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from solti.bot.serving import socket_mode_handler
from solti.bot.settings import load_settings
from solti.bot_command import bot_command
from solti.composition import build_bot
from solti.provisioning import load_policy
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn

APP_TOKEN = "xapp-1-A0001-secret-socket-token"


def _settings(standin: SlackStandIn, tmp_path: Path, sim: SimEnvironment) -> object:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": standin.url,
            "SOLTI_DB": str(tmp_path / "socket.db"),
            "SOLTI_CONFIG": str(sim.config_path),
        }
    )


def test_app_token_chooses_socket_mode_and_envelopes_need_no_signature(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path
) -> None:
    settings = _settings(standin, tmp_path, sim)
    assert settings.socket_mode  # type: ignore[attr-defined]
    app = build_bot(settings, provisioner=None, policy=load_policy(sim.config_path)).app  # type: ignore[arg-type]
    handler = socket_mode_handler(app, settings)
    assert isinstance(handler, SocketModeHandler)
    assert handler.app is app and handler.app_token == APP_TOKEN
    assert handler.client.web_client is app.client  # Web API calls honour SLACK_API_URL
    body = {
        "command": "/solti",
        "text": "help",
        "user_id": "U0ALICE",
        "channel_id": "C0INFRA",
        "team_id": "T0001",
        "trigger_id": "socket.1",
    }
    reply = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert reply.status == 200
    assert "/solti vm create rocky9" in json.dumps(json.loads(reply.body)["blocks"])


@pytest.mark.parametrize("token", ["xoxb-not-an-app-token", "bad-secret-value"])
def test_bad_app_token_stops_start_up_with_one_line_naming_it(
    sim: SimEnvironment, token: str
) -> None:
    env = {
        **sim.env,  # Proxmox and the policy are fine: the one line is about the token
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": token,
        "SLACK_SIGNING_SECRET": None,
        "SOLTI_LOG_FORMAT": None,
        "SOLTI_LOG_LEVEL": None,
    }
    # A process of its own: in this one, another test's bot threads may still be logging, and
    # `solti bot` points logging at the stderr being read.
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SOLTI_"))}
    child.update({k: v for k, v in env.items() if v is not None})
    result = subprocess.run(
        [sys.executable, "-m", "solti", "bot"],
        env=child,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "SLACK_APP_TOKEN" in lines[0] and "xapp-" in lines[0]
    assert token not in output


def test_every_bad_setting_is_named_at_once_and_exits_1(tmp_path: Path) -> None:
    """Slack, Proxmox, the policy file and the metrics port: one line each, one start-up."""
    env = {
        "SLACK_BOT_TOKEN": "not-a-bot-token",
        "SLACK_APP_TOKEN": None,
        "SLACK_SIGNING_SECRET": None,
        "PROXMOX_URL": None,
        "SOLTI_CONFIG": str(tmp_path / "missing.yaml"),
        "SOLTI_METRICS_PORT": "lots",
        "SOLTI_LOG_FORMAT": None,
        "SOLTI_LOG_LEVEL": "CHATTY",
    }
    result = CliRunner().invoke(bot_command, [], env=env)
    assert result.exit_code == 1
    named = ("SLACK_BOT_TOKEN", "PROXMOX_URL", "SOLTI_CONFIG", "SOLTI_METRICS_PORT",
             "SOLTI_LOG_LEVEL")  # fmt: skip
    assert [name for name in named if name not in result.output] == []
    assert "Traceback" not in result.output and "not-a-bot-token" not in result.output
