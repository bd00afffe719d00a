"""`solti bot` in Socket Mode as the image runs it: /healthz for HEALTHCHECK, /metrics, no events.

A real process connects to the Slack stand-in's websocket (``SLACK_API_URL``) and still answers
``GET /healthz`` and ``GET /metrics`` on ``SOLTI_HTTP_PORT``; the Dockerfile's HEALTHCHECK
command itself is run against it. Waits poll a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from tests.packaging.processes import free_port, healthcheck_code

BOT_TOKEN = "xoxb-1-socket-mode-test-token-abcdef"
APP_TOKEN = "xapp-1-A0001-socket-mode-process-secret"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _get(url: str) -> tuple[int, str]:
    """Status and body, for error statuses too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _metric(url: str, sample: str) -> float | None:
    for line in _get(url + "/metrics")[1].splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture(scope="module")
def sim() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env


@pytest.fixture(scope="module")
def bot(sim: SimEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("socket-mode")
    port = free_port()
    with SlackStandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PROXMOX_", "SLACK_"))},
            **sim.env,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.url,
            "SOLTI_HTTP_PORT": str(port),
            "SOLTI_DB": str(tmp / "solti.db"),
            "SOLTI_LOG_FORMAT": "json",
        }
        log_path = tmp / "stderr.log"
        log = log_path.open("w+")
        process = subprocess.Popen(
            [sys.executable, "-m", "solti", "bot", "--host", "127.0.0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if _get(url + "/healthz")[0] == 200:
                        break
                except OSError:
                    pass  # not listening yet
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "solti bot never reported a Slack session"
                time.sleep(0.2)
            slack.socket_mode.wait_connected()
            yield {"url": url, "env": env, "process": process, "log": log_path, "slack": slack}
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_dockerfile_healthcheck_passes_in_socket_mode(bot: dict[str, Any]) -> None:
    env = dict(bot["env"])
    run = [sys.executable, "-c", healthcheck_code()]
    result = subprocess.run(run, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    # The app token no longer skips the check: nothing listening is unhealthy.
    env["SOLTI_HTTP_PORT"] = str(free_port())
    down = subprocess.run(run, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert down.returncode != 0


def test_healthz_body_and_connected_gauge(bot: dict[str, Any]) -> None:
    assert _get(bot["url"] + "/healthz") == (200, json.dumps({"ok": True}))
    assert _metric(bot["url"], "solti_socket_mode_connected") == 1.0


def test_slack_events_are_refused(bot: dict[str, Any]) -> None:
    request = urllib.request.Request(
        bot["url"] + "/slack/events",
        data=b"command=%2Fsolti&text=help",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 404


def test_a_command_over_the_socket_is_counted_in_metrics(bot: dict[str, Any]) -> None:
    slack: SlackStandIn = bot["slack"]
    sample = 'solti_commands_total{outcome="ok",verb="help"}'
    before = _metric(bot["url"], sample) or 0.0
    payload = {
        "command": "/solti",
        "text": "help",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "channel_id": "C0INFRA",
        "team_id": "T0001",
        "api_app_id": "A0789",
        "response_url": slack.response_url("proc-help", channel="C0INFRA", user="U0ALICE"),
        "trigger_id": slack.issue_trigger("U0ALICE"),
    }
    envelope = slack.socket_mode.send("slash_commands", payload)
    assert slack.socket_mode.wait_ack(envelope, timeout=30).payload is not None
    deadline = time.monotonic() + 30
    while _metric(bot["url"], sample) != before + 1:
        assert time.monotonic() < deadline, "the socket command was not counted"
        time.sleep(0.2)


def test_logs_hold_no_secret_and_no_traceback(bot: dict[str, Any]) -> None:
    text = Path(bot["log"]).read_text()
    for secret in (BOT_TOKEN, APP_TOKEN, str(bot["env"]["PROXMOX_TOKEN_SECRET"])):
        assert secret not in text
    assert "Traceback" not in text


def test_a_taken_port_stops_start_up_with_one_line(bot: dict[str, Any]) -> None:
    """Socket Mode now listens too, so a busy SOLTI_HTTP_PORT must fail plainly, not crash."""
    env = dict(bot["env"])  # the running bot holds this port
    result = subprocess.run(
        [sys.executable, "-m", "solti", "bot", "--host", "127.0.0.1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1  # every start-up failure of `solti bot` exits 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("solti bot:")]
    assert len(lines) == 1 and "SOLTI_HTTP_PORT" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and APP_TOKEN not in result.stderr
