"""Acknowledgement latency of `/solti` slash commands over HTTP.

Slack gives an app 3 seconds to acknowledge; this measures how long the bot takes, from the
signed POST leaving the client to its HTTP answer, with 20 requests in flight at a time.
Everything is local, each part in its own process as it would be in production: the bot, the
simulated Proxmox (`solti sim pve`), the Slack stand-in, and this load generator. Each one's
CPU time per command is reported, so it is plain where the machine's two cores go.

    .venv/bin/python bench/bench_ack.py [--total 400] [--concurrency 20] [--mix NAME] [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SECRET = "bench-signing-secret"
# Pure acks (help, a usage error) and acks whose work continues in the background (key show
# reads SQLite and posts to the response_url; template list also asks Proxmox).
MIXES = {
    "help": ("help",),
    "acks": ("help", "vm create rocky9 --disk"),
    "keys": ("help", "vm create rocky9 --disk", "key show"),
    "all": ("help", "vm create rocky9 --disk", "key show", "template list"),
    "background": ("key show", "template list"),
}
PROCESSES = ("bot", "slack", "pve", "client")


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


def slack_standin(requests: Any, answers: Any, nice: int = 0) -> None:
    """The Slack stand-in in its own process; builds the slash-command forms on request.

    A form carries a response_url and a trigger_id that only this stand-in knows, so it makes
    them (Slack's work, done before the clock starts) and hands them to the load generator.
    """
    os.nice(nice)
    from solti.sandbox.slack import SlackStandIn
    from solti.sandbox.slack.store import APP_ID, TEAM_DOMAIN
    from solti.sandbox.slack.user import VERIFICATION_TOKEN

    with SlackStandIn() as standin:
        answers.put(standin.url)
        while (request := requests.get()) is not None:
            if request == "replies":  # how many response_url posts arrived so far
                answers.put(len(standin.state.response_posts))
                continue
            texts, user, channel = request
            info = standin.state.ensure_channel(channel, user)
            bodies = []
            for text in texts:
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
                    "response_url": standin.response_url(
                        uuid.uuid4().hex, channel=channel, user=user
                    ),
                    "trigger_id": standin.issue_trigger(user),
                }
                bodies.append(urllib.parse.urlencode(form))
            answers.put(bodies)


def serve(env: dict[str, str], api_url: str, db: str, ready: Any, stop: Any) -> None:
    """The bot in its own process, as in production: its own interpreter and GIL."""
    from solti.bot.settings import load_settings
    from solti.composition import HttpService, build_bot, build_provisioner
    from solti.provisioning import ProxmoxSettings, load_policy
    from solti.telemetry import configure_logging

    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "SOLTI_DB": db,
        }
    )
    policy = load_policy(env["SOLTI_CONFIG"])
    provisioner = build_provisioner(ProxmoxSettings.from_env(env), policy, db)
    # Log as `solti bot` does (JSON, INFO, secrets redacted), so the cost of logging is counted.
    configure_logging("json", "INFO", secrets=[SECRET], stream=open(os.devnull, "w"))  # noqa: SIM115
    with HttpService(build_bot(settings, provisioner, policy)) as server:
        ready.put(server.events_url)
        stop.wait()


def _start_pve(nice: int = 0) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`solti sim pve` as its own process; its first stdout line is the environment."""
    command = [sys.executable, "-c", "from solti.cli import main; main()", "sim", "pve"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, preexec_fn=lambda: os.nice(nice)
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        process.kill()
        raise RuntimeError("solti sim pve did not start")
    return process, json.loads(line)["env"]


def _settle(pids: dict[str, int], quiet: float = 0.3, limit: float = 30.0) -> None:
    """Wait until the background work has finished: no process used CPU for ``quiet`` s."""
    deadline = time.monotonic() + limit
    last = {name: cpu_seconds(pid) for name, pid in pids.items()}
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = {name: cpu_seconds(pid) for name, pid in pids.items()}
        if all(now[name] == last[name] for name in pids if name != "client"):
            return
        last = now


def run(total: int, concurrency: int, commands: tuple[str, ...], nice: int = 0) -> dict[str, Any]:
    """``nice``: the stand-ins' scheduling niceness (19: they only get what the bot and the
    load generator leave, as if Slack and Proxmox ran on other machines)."""
    context = multiprocessing.get_context("spawn")
    pve, env = _start_pve(nice)
    requests, answers = context.Queue(), context.Queue()
    slack = context.Process(target=slack_standin, args=(requests, answers, nice), daemon=True)
    slack.start()
    bot = None
    stop = context.Event()
    try:
        api_url = answers.get(timeout=60)
        with tempfile.TemporaryDirectory() as tmp:
            ready = context.Queue()
            bot = context.Process(
                target=serve, args=(env, api_url, str(Path(tmp) / "bench.db"), ready, stop)
            )
            bot.start()
            events_url = ready.get(timeout=60)
            pids = {"bot": bot.pid, "slack": slack.pid, "pve": pve.pid, "client": os.getpid()}

            def replies() -> int:
                requests.put("replies")
                return int(answers.get(timeout=60))

            # Warm up connections, imports and caches, and learn which commands reply later
            # (through the response_url) rather than in the acknowledgement.
            requests.put((list(commands) * 3, "U0ALICE", "C0INFRA"))
            later: dict[str, int] = {}
            for index, body in enumerate(answers.get(timeout=60)):
                posted = replies()
                if post_signed(events_url, body) != 200:
                    raise RuntimeError("warm-up failed")
                _settle(pids, quiet=0.1)
                later[commands[index % len(commands)]] = replies() - posted
            texts = [commands[index % len(commands)] for index in range(total)]
            requests.put((texts, "U0ALICE", "C0INFRA"))
            bodies = answers.get(timeout=60)
            expected = replies() + sum(later[text] for text in texts)
            _settle(pids)

            def one(body: str) -> float:
                started = time.perf_counter()
                status = post_signed(events_url, body)
                elapsed = time.perf_counter() - started
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
                return elapsed

            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            wall = time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                samples = list(pool.map(one, bodies))
            acked = time.perf_counter() - wall
            client_after = cpu_seconds(os.getpid())
            while replies() < expected:  # every later reply delivered to the stand-in
                time.sleep(0.005)
            replied = time.perf_counter() - wall
            _settle(pids)  # the rest of the background work, in every process
            after = {name: cpu_seconds(pid) for name, pid in pids.items()}
            after["client"] = client_after
            stop.set()
            bot.join(timeout=10)
    finally:
        stop.set()
        requests.put(None)
        slack.join(timeout=10)
        pve.terminate()
        pve.wait(timeout=10)
        if bot is not None and bot.is_alive():
            bot.terminate()
    cpu = {
        name: (after[name] - before[name]) / len(samples) * 1000
        if before[name] is not None and after[name] is not None
        else float("nan")
        for name in PROCESSES
    }
    return {
        "count": len(samples),
        "cpu_ms": cpu,
        "rate": len(samples) / acked,
        "acked_s": acked,
        "replied_s": replied,
        "p50_ms": percentile(samples, 0.50) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
        "max_ms": max(samples) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--total", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--mix",
        choices=sorted(MIXES),
        default="all",
        help="the commands sent, in turn (BENCH_COMMANDS='a|b' overrides)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the Slack stand-in and the simulator (19: they yield the cores)",
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat and print the medians")
    args = parser.parse_args()
    commands = MIXES[args.mix]
    if os.environ.get("BENCH_COMMANDS"):
        commands = tuple(os.environ["BENCH_COMMANDS"].split("|"))
    results = []
    for _ in range(args.runs):
        result = run(args.total, args.concurrency, commands, args.nice)
        results.append(result)
        _print(result, commands, args.concurrency)
    if args.runs > 1:
        # Runs on a shared 2-core machine vary by tens of percent; the median is the figure.
        def median(key: str) -> float:
            return statistics.median(r[key] for r in results)

        cpu = {name: statistics.median(r["cpu_ms"][name] for r in results) for name in PROCESSES}
        print(
            f"median of {args.runs} runs: {median('rate'):.0f}/s, p50 {median('p50_ms'):.1f} ms, "
            f"p99 {median('p99_ms'):.1f} ms (p99 range {min(r['p99_ms'] for r in results):.1f}-"
            f"{max(r['p99_ms'] for r in results):.1f} ms), bot CPU {cpu['bot']:.2f} ms/command"
        )


def _print(result: dict[str, Any], commands: tuple[str, ...], concurrency: int) -> None:
    cpu = result["cpu_ms"]
    print(
        f"{' | '.join(commands)}: {result['count']} slash commands, {concurrency} in flight, "
        f"{result['rate']:.0f}/s: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"mean {result['mean_ms']:.1f} ms, max {result['max_ms']:.1f} ms; all acked after "
        f"{result['acked_s']:.2f} s, every later reply in after {result['replied_s']:.2f} s\n"
        "CPU ms per command: "
        + ", ".join(f"{name} {cpu[name]:.2f}" for name in PROCESSES)
        + f" (total {sum(cpu.values()):.2f})",
        flush=True,
    )


if __name__ == "__main__":
    main()
