"""Acknowledgement latency of `/solti` slash commands over HTTP.

Slack gives an app 3 seconds to acknowledge; this measures how long the bot takes, from the
signed POST leaving the client to its HTTP answer, with 20 requests in flight at a time.
Everything is local: the Slack stand-in, the simulated Proxmox, the real bot on loopback.

    .venv/bin/python bench/bench_ack.py [--total 400] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.server import HttpServer
from bot.settings import load_settings
from provisioning import Provisioner, ProxmoxSettings, load_policy
from sandbox.environment import SimEnvironment
from sandbox.slack import SlackStandIn, SlackUser

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
    app = create_app(settings, provisioner, policy)
    with HttpServer(app) as server:
        ready.put(server.events_url)
        stop.wait()


def run(total: int, concurrency: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    with SimEnvironment() as env, SlackStandIn() as standin, tempfile.TemporaryDirectory() as tmp:
        ready, stop = context.Queue(), context.Event()
        bot = context.Process(
            target=serve, args=(env.env, standin.url, str(Path(tmp) / "bench.db"), ready, stop)
        )
        bot.start()
        try:
            user = SlackUser(ready.get(timeout=60), SECRET, standin)
            for command in COMMANDS:  # warm up connections, imports and caches
                user.slash(command)

            def one(index: int) -> float:
                started = time.perf_counter()
                reply = user.slash(COMMANDS[index % len(COMMANDS)])
                elapsed = time.perf_counter() - started
                if reply.status_code != 200:
                    raise RuntimeError(f"HTTP {reply.status_code}")
                return elapsed

            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                samples = list(pool.map(one, range(total)))
        finally:
            stop.set()
            bot.join(timeout=10)
    return {
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
    args = parser.parse_args()
    result = run(args.total, args.concurrency)
    print(
        f"{result['count']:.0f} slash commands, {args.concurrency} concurrent: "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"mean {result['mean_ms']:.1f} ms, max {result['max_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
