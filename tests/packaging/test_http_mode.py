"""`solti bot` in HTTP mode as the image runs it: /healthz for the HEALTHCHECK, /metrics, JSON logs.

A real process on a real port, against the Proxmox simulator and the Slack stand-in; the
Dockerfile's HEALTHCHECK command itself is run against it.
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

import pytest

from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn
from solti.sandbox.slack.user import SlackUser
from tests.packaging.processes import free_port, healthcheck_code

BOT_TOKEN = "xoxb-1-http-mode-test-token-abcdef"
SIGNING_SECRET = "5f0c1f3b2a9e4d7c8b6a5f4e3d2c1b0a"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("http-mode")
    port = free_port()
    with SimEnvironment() as sim, SlackStandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PROXMOX_", "SLACK_"))},
            **sim.env,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
            "SOLTI_HTTP_PORT": str(port),
            "SOLTI_DB": str(tmp / "solti.db"),
            "SOLTI_LOG_FORMAT": "json",
        }
        log = (tmp / "stderr.log").open("w+")
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
                    with urllib.request.urlopen(url + "/healthz", timeout=2):
                        break
                except OSError:
                    assert process.poll() is None, (tmp / "stderr.log").read_text()
                    assert time.monotonic() < deadline, "solti bot did not answer /healthz"
                    time.sleep(0.2)
            yield {
                "url": url,
                "env": env,
                "process": process,
                "log": tmp / "stderr.log",
                "slack": slack,
            }
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_dockerfile_healthcheck_passes(bot: dict[str, object]) -> None:
    env = dict(bot["env"])  # type: ignore[call-overload]
    result = subprocess.run(
        [sys.executable, "-c", healthcheck_code()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    # And it fails when nothing answers, so it can really report an unhealthy container.
    env["SOLTI_HTTP_PORT"] = str(free_port())
    down = subprocess.run(
        [sys.executable, "-c", healthcheck_code()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert down.returncode != 0


def test_metrics_endpoint(bot: dict[str, object]) -> None:
    with urllib.request.urlopen(f"{bot['url']}/metrics", timeout=5) as response:
        body = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/plain")
    for family in (
        "solti_commands_total",
        "solti_ack_latency_seconds",
        "solti_provisioning_step_seconds",
        "solti_proxmox_errors_total",
        "solti_approvals_waiting",
    ):
        assert f"# TYPE {family.removesuffix('_total')}" in body


def test_logs_are_json_without_secrets(bot: dict[str, object]) -> None:
    text = Path(str(bot["log"])).read_text()
    for secret in (BOT_TOKEN, SIGNING_SECRET, str(dict(bot["env"])["PROXMOX_TOKEN_SECRET"])):  # type: ignore[call-overload]
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert records, "the bot logged nothing as JSON"
    for record in records:
        assert {"ts", "level", "logger", "msg", "request_id"} <= set(record)


def _metric(url: str, needle: str) -> float | None:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(needle + " "):
                return float(line.rsplit(" ", 1)[1])
    return None


def test_a_slash_command_is_counted_and_logged_with_its_request_id(
    bot: dict[str, object],
) -> None:
    url = str(bot["url"])
    user = SlackUser(f"{url}/slack/events", SIGNING_SECRET, bot["slack"])  # type: ignore[arg-type]
    assert user.slash("vm list").status_code == 200
    sample = 'solti_commands_total{outcome="ok",verb="vm list"}'
    deadline = time.monotonic() + 30
    while _metric(url, sample) is None:
        assert time.monotonic() < deadline, "the command was not counted"
        time.sleep(0.2)
    lines = [
        json.loads(line)
        for line in Path(str(bot["log"])).read_text().splitlines()
        if line.startswith("{")
    ]
    done = [line for line in lines if line.get("verb") == "vm list"]
    assert done and done[-1]["outcome"] == "ok"
    assert done[-1]["request_id"], "the command line carries its request id"


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"nothing answered {url}"
            time.sleep(0.2)


def test_the_app_factory_runs_under_waitress_serve_with_metrics_on_their_own_port(
    tmp_path: Path,
) -> None:
    """`waitress-serve --call solti.bot.wsgi:create_app`, as an operator may deploy it."""
    port, metrics_port = free_port(), free_port()
    with SimEnvironment() as sim, SlackStandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PROXMOX_", "SLACK_"))},
            **sim.env,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
            "SOLTI_DB": str(tmp_path / "solti.db"),
            "SOLTI_METRICS_PORT": str(metrics_port),
        }
        log = tmp_path / "stderr.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "waitress-serve"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--call",
                    "solti.bot.wsgi:create_app",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_until_up(url + "/healthz", process, log)
                user = SlackUser(f"{url}/slack/events", SIGNING_SECRET, slack)
                reply = user.slash("help")
                assert reply.status_code == 200 and "/solti vm create" in reply.text
                _wait_until_up(f"http://127.0.0.1:{metrics_port}/metrics", process, log)
                sample = 'solti_commands_total{outcome="ok",verb="help"}'
                deadline = time.monotonic() + 30
                while _metric(f"http://127.0.0.1:{metrics_port}", sample) != 1.0:
                    assert time.monotonic() < deadline, "the command was not counted"
                    time.sleep(0.1)
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(f"{url}/metrics", timeout=5)
                assert refused.value.code == 404  # not on the port that faces Slack
            finally:
                process.terminate()
                process.wait(timeout=30)
        assert "Traceback" not in log.read_text()
