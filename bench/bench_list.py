"""`vm list` over a big fleet: 5,000 VMs on 20 nodes, in the CLI and in Slack.

Issue 13 asks that the CLI list all 5,000 fast and that Slack's list be paginated and say so.
This counts the Proxmox requests of each (from the simulator's request log) and times it:

- ``solti vm list`` (table) and ``solti vm list --json``, run in-process through click;
- ``/solti vm list`` and ``/solti vm list --page 50`` as signed slash commands to the real bot
  over HTTP, timed from the post to the page's arrival at the Slack stand-in.

Every VM has an owner (a ``vm create`` audit record) and a lease, as in a fleet Solti made, so
the owner and lease lookups are measured too. Median of ``--runs``.

    .venv/bin/python bench/bench_list.py [--vms 5000] [--nodes 20] [--runs 3]
                                         [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from doc_section import write_section

from solti.bot.settings import load_settings
from solti.cli import main as solti_main
from solti.composition import HttpService, build_bot
from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.lease_store import Lease, LeaseStore
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn, SlackUser

SECRET = "bench-signing-secret"
CHANNEL = "C0BENCH"
OWNERS = [f"U{i:08d}" for i in range(97)]
T0 = datetime.now(UTC)


def _seed(env: SimEnvironment, p: Provisioner, vms: int, nodes: int) -> None:
    """VMs in the simulator; their creates in the audit log; their leases, one transaction."""
    names = env.pve.state.nodes.names
    store = LeaseStore(p.audit)
    with p.audit.lock, p.audit.conn:
        for i in range(vms):
            vmid = 1000 + i
            owner = OWNERS[i % len(OWNERS)]
            env.pve.state.add_vm(vmid, f"vm{vmid}", node=names[i % nodes], running=i % 3 != 0)
            p.audit.conn.execute(
                "INSERT INTO audit (at, actor, via, action, params, result, vmid, name) "
                "VALUES (?, ?, 'slack', 'vm create', '{}', 'ok', ?, ?)",
                [T0.isoformat(), owner, vmid, f"vm{vmid}"],
            )
            ends = T0 + timedelta(days=1 + i % 60)
            store.put(Lease(vmid, owner, ends, T0, "bench"))


def _timed(env: SimEnvironment, run: Callable[[], Any]) -> tuple[float, int, int, Any]:
    start = len(env.pve.requests)
    t0 = time.perf_counter()
    result = run()
    wall = time.perf_counter() - t0
    seen = env.pve.requests[start:]
    resources = sum(1 for r in seen if r.path.endswith("/cluster/resources"))
    return wall, len(seen), resources, result


def _median_row(label: str, samples: list[tuple[float, int, int, Any]], shown: str) -> dict:
    return {
        "what": label,
        "requests": samples[-1][1],
        "cluster_resources": samples[-1][2],
        "wall": statistics.median(s[0] for s in samples),
        "shown": shown,
        "runs": len(samples),
    }


def _cli_rows(env: SimEnvironment, cli_env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    rows = []
    for label, args in (
        ("`solti vm list` (table)", ["vm", "list"]),
        ("`solti vm list --json`", ["vm", "list", "--json"]),
    ):
        samples = []
        for _ in range(runs):
            samples.append(
                _timed(env, lambda a=args: CliRunner().invoke(solti_main, a, env=cli_env))
            )
        out = samples[-1][3]
        assert out.exit_code == 0, out.output
        lines = out.stdout.count("\n")
        rows.append(_median_row(label, samples, f"{lines} lines"))
    return rows


def _slack_rows(
    env: SimEnvironment, standin: SlackStandIn, user: SlackUser, runs: int
) -> list[dict[str, Any]]:
    rows = []
    for label, text in (
        ("`/solti vm list`", "vm list"),
        ("`/solti vm list --page 50`", "vm list --page 50"),
    ):
        samples = []
        for _ in range(runs):

            def ask(text: str = text) -> dict[str, Any]:
                before = len(standin.ephemerals("U00000000"))
                user.slash(text, user="U00000000", channel=CHANNEL)
                return standin.wait_for(
                    lambda: standin.ephemerals("U00000000")[before:] or None, 60
                )[-1]

            samples.append(_timed(env, ask))
        page = samples[-1][3]
        footer = re.search(r"\d+-\d+ of \d+[^'\"]*", str(page["blocks"]))
        shown = f"{len(page['blocks'])} blocks; {footer.group(0) if footer else '?'}"
        rows.append(_median_row(label, samples, shown.replace("`", "").replace("|", "/")))
    return rows


def measure(vms: int, nodes: int, runs: int) -> list[dict[str, Any]]:
    with (
        SimEnvironment(nodes=nodes) as env,
        SlackStandIn() as standin,
        tempfile.TemporaryDirectory() as tmp,
    ):
        db = Path(tmp, "solti.db")
        policy = load_policy(env.config_path)
        p = Provisioner.from_settings(ProxmoxSettings.from_env(env.env), policy, db)
        _seed(env, p, vms, nodes)
        cli_env = {**env.env, "SOLTI_DB": str(db), "USER": "ops", "COLUMNS": "200"}
        rows = _cli_rows(env, cli_env, runs)
        standin.add_channel(CHANNEL, "bench")
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": standin.url,
                "SOLTI_DB": str(db),
                "SOLTI_CONFIG": str(env.config_path),
            }
        )
        bot = build_bot(settings, Provisioner.from_settings(
            ProxmoxSettings.from_env(env.env), policy, db), policy)  # fmt: skip
        server = HttpService(bot).start(jobs=False)
        try:
            user = SlackUser(server.events_url, SECRET, standin)
            rows += _slack_rows(env, standin, user, runs)
        finally:
            server.stop()
        return rows


def table(rows: list[dict[str, Any]], vms: int, nodes: int) -> str:
    lines = [
        f"Fleet: {vms} VMs on {nodes} nodes (simulator), each with an owner and a lease; "
        f"median of {rows[0]['runs']} runs.",
        "",
        "| list | PVE requests | /cluster/resources | wall | what it shows |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} | {r['requests']} | {r['cluster_resources']} | {r['wall']:.2f} s | "
            f"{r['shown']} |"
        )
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    write_section(path, "bench_list", text, heading="VM list of a big fleet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vms", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", type=Path, help="Update the VM list section of a file.")
    args = parser.parse_args(argv)
    rows = measure(args.vms, args.nodes, args.runs)
    text = table(rows, args.vms, args.nodes)
    print(text)
    if args.write:
        write(args.write, text)
    ok = all(r["cluster_resources"] == 1 for r in rows)
    print(f"vm list: one /cluster/resources per list: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
