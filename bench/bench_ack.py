"""Acknowledgement latency of `/solti` slash commands over HTTP.

Slack gives an app 3 seconds to acknowledge; this measures how long the bot takes, from the
signed POST leaving the client to its HTTP answer, with 20 requests in flight at a time.
Everything is local: the Slack stand-in, the simulated Proxmox, the real bot on loopback.

    .venv/bin/python bench/bench_ack.py [--total 400] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import multiprocessing
import os
import statistics
import tempfile
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.server import HttpServer
from bot.settings import load_settings
from provisioning import Provisioner, ProxmoxSettings, load_policy
from provisioning.telemetry import configure_logging
from sandbox.environment import SimEnvironment
from sandbox.slack import SlackStandIn, SlackUser
from sandbox.slack.store import APP_ID, TEAM_DOMAIN
from sandbox.slack.user import VERIFICATION_TOKEN

SECRET = "bench-signing-secret"
# Pure acks (help, a usage error) and acks whose work continues lazily (key show, template list).
COMMANDS = tuple(
    os.environ.get("BENCH_COMMANDS", "help|vm create rocky9 --disk|key show|template list").split(
        "|"
    )
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slash_body(standin: SlackStandIn, text: str, user: str = "U0ALICE") -> str:
    """The form Slack posts for `/solti text` (as SlackUser.slash builds it), made up front.

    Building it is Slack's work, not the bot's, so it stays out of the timed loop; the
    response_url and trigger are registered with the stand-in so background replies land.
    """
    channel = "C0INFRA"
    info = standin.state.ensure_channel(channel, user)
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": "T0001",
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel,
        "channel_name": info["name"],
        "user_id": user,
        "user_name": "alice",
        "command": "/solti",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": standin.response_url(uuid.uuid4().hex, channel=channel, user=user),
        "trigger_id": standin.issue_trigger(user),
    }
    return urllib.parse.urlencode(form)


def post_signed(url: str, body: str) -> int:
    """Sign and POST one body on a fresh connection, as Slack does; returns the HTTP status.

    http.client rather than requests: the load generator shares two cores with the bot, and
    requests spent ~3 ms of CPU per call, more than the bot's whole acknowledgement.
    """
    parts = urllib.parse.urlsplit(url)
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("POST", parts.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def serve(env: dict[str, str], api_url: str, db: str, ready: Any, stop: Any) -> None:
    """The bot in its own process, as in production: its own interpreter and GIL."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "SOLTI_DB": db,
        }
    )
    policy = load_policy(env["SOLTI_CONFIG"])
    provisioner = Provisioner.from_settings(ProxmoxSettings.from_env(env), policy, db)
    # Log as `solti bot` does (JSON, INFO, secrets redacted), so the cost of logging is counted.
    configure_logging("json", "INFO", secrets=[SECRET], stream=open(os.devnull, "w"))  # noqa: SIM115
    app = create_app(settings, provisioner, policy)
    with HttpServer(app) as server:
        ready.put(server.events_url)
        stop.wait()


def run(total: int, concurrency: int, client: str = "lean") -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    with SimEnvironment() as env, SlackStandIn() as standin, tempfile.TemporaryDirectory() as tmp:
        ready, stop = context.Queue(), context.Event()
        bot = context.Process(
            target=serve, args=(env.env, standin.url, str(Path(tmp) / "bench.db"), ready, stop)
        )
        bot.start()
        try:
            events_url = ready.get(timeout=60)
            user = SlackUser(events_url, SECRET, standin)
            for command in COMMANDS:  # warm up connections, imports and caches
                user.slash(command)
            bodies = [
                slash_body(standin, COMMANDS[index % len(COMMANDS)]) for index in range(total)
            ]

            def one(index: int) -> float:
                started = time.perf_counter()
                if client == "requests":
                    status = user.slash(COMMANDS[index % len(COMMANDS)]).status_code
                else:
                    status = post_signed(events_url, bodies[index])
                elapsed = time.perf_counter() - started
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
                return elapsed

            time.sleep(1.0)  # let the warm-up's background work finish
            cpu_before, client_before = cpu_seconds(bot.pid), cpu_seconds(os.getpid())
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                samples = list(pool.map(one, range(total)))
            time.sleep(1.0)  # and the measured requests' background work
            cpu_after, client_after = cpu_seconds(bot.pid), cpu_seconds(os.getpid())
        finally:
            stop.set()
            bot.join(timeout=10)
    bot_cpu = (
        (cpu_after - cpu_before) / len(samples) * 1000
        if cpu_before is not None and cpu_after is not None
        else float("nan")
    )
    client_cpu = (
        (client_after - client_before) / len(samples) * 1000
        if client_before is not None and client_after is not None
        else float("nan")
    )
    return {
        "bot_cpu_ms": bot_cpu,
        "client_cpu_ms": client_cpu,
        "count": len(samples),
        "p50_ms": percentile(samples, 0.50) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
        "max_ms": max(samples) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--client",
        choices=("lean", "requests"),
        default="lean",
        help="lean: http.client with bodies made up front; requests: SlackUser.slash per call",
    )
    args = parser.parse_args()
    result = run(args.total, args.concurrency, args.client)
    print(
        f"{result['count']:.0f} slash commands, {args.concurrency} concurrent: "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"mean {result['mean_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
        f"bot CPU {result['bot_cpu_ms']:.2f} ms per command (ack and background work), "
        f"load generator + stand-ins {result['client_cpu_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
