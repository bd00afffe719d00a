"""Provisioning benchmark: requests and wall time of a VM create and a template build.

Runs against the PVE simulator with injected latency (20 ms per API request, 0.5 s per clone
task, as a small real cluster answers) and counts requests from the simulator's request log, so
the numbers are about our call pattern, not this machine. Goal: a linked-clone create with
cloud-init and disk growth needs at most 6 API requests plus task polls.

    .venv/bin/python bench/bench_provisioning.py [--runs N] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment

LATENCY = 0.020
CLONE_SECONDS = 0.5
BUDGET = 6
BEGIN = "<!-- bench_provisioning:begin -->"
END = "<!-- bench_provisioning:end -->"


def _key() -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " bench@example"


def _count(records: list[Any]) -> tuple[int, int]:
    polls = sum(1 for r in records if "/tasks/" in r.path)
    return len(records) - polls, polls


def measure(runs: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with SimEnvironment() as env, tempfile.TemporaryDirectory() as tmp:
        sim = env.pve
        p = Provisioner.from_settings(
            ProxmoxSettings.from_env(env.env), load_policy(env.config_path), Path(tmp, "a.db")
        )
        sim.faults.latency(LATENCY)
        sim.faults.task_duration("qmclone", CLONE_SECONDS)
        builds, creates = [], []
        for run in range(runs):
            start, t0 = len(sim.requests), time.perf_counter()
            info = p.build_template({"distribution": "rocky9", "disk": "12G"}).template
            builds.append((time.perf_counter() - t0, *_count(sim.requests[start:])))
            start, t0 = len(sim.requests), time.perf_counter()
            p.create_vm({"template": info.vmid, "ssh_keys": [_key()], "disk": "32G",
                         "ip": "10.0.0.5/24", "gw": "10.0.0.1", "name": f"bench{run}"})  # fmt: skip
            creates.append((time.perf_counter() - t0, *_count(sim.requests[start:])))
        for label, samples in (
            ("VM create (linked clone, cloud-init, disk growth, start)", creates),
            ("template build (download, import, grow, notes, convert)", builds),
        ):
            rows.append(
                {
                    "operation": label,
                    "requests": samples[0][1],
                    "polls": statistics.median(s[2] for s in samples),
                    "wall_s": statistics.median(s[0] for s in samples),
                    "runs": len(samples),
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| operation | API requests (without polls) | task polls (median) | wall time (median) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['operation']} | {r['requests']} | {r['polls']:g} | {r['wall_s']:.2f} s |"
        )
    return "\n".join(lines)


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    section = "\n".join([
        BEGIN,
        "## Provisioning",
        "",
        f"Measured by `bench/bench_provisioning.py` against the PVE simulator with "
        f"{LATENCY * 1000:.0f} ms latency per API request and {CLONE_SECONDS} s per clone task "
        f"(median of {rows[0]['runs']} runs). Requests are counted from the simulator's log.",
        "",
        table(rows),
        "",
        f"Goal for the create: at most {BUDGET} requests plus task polls. The create makes one "
        "`/cluster/resources` snapshot, reads the template config, clones, writes cloud-init, "
        "cores, memory, tags and notes in ONE synchronous `PUT config`, resizes, and starts. "
        "Polling starts at once, then backs off 0.1 s -> 1 s, so short tasks cost 1-2 polls and "
        "the 0.5 s clone about 4.",
        "",
        "Besides these Proxmox API requests a build makes one request upstream (the checksum "
        "file) for Rocky, AlmaLinux and CentOS Stream, whose version is the dated twin in that "
        "file, and two for Debian and Ubuntu (plus one `HEAD` of the image, whose "
        "`Last-Modified` dates the build). The bench builds rocky9.",
        "",
        "Earlier figures (create 1.62 s, build 1.18 s) included a flaw of the simulator, not of "
        "provisioning: it wrote each answer's headers and body in two small writes, and on a "
        "keep-alive connection Nagle's algorithm held the body until the client's delayed ACK, "
        "about 40 ms per request. The simulators now answer in one segment, so these figures "
        "measure our call pattern and the injected latency, not a stall of the simulator.",
        END,
    ])  # fmt: skip
    text = path.read_text("utf-8") if path.exists() else "# Performance\n"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", type=Path, help="Update the provisioning section of a file.")
    args = parser.parse_args(argv)
    rows = measure(args.runs)
    print(table(rows))
    if args.write:
        write(args.write, rows)
    create = rows[0]["requests"]
    if create > BUDGET:
        print(f"create used {create} requests; the budget is {BUDGET}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
