"""Bulk creates: ``--count 10`` over 5 simulated nodes against the wall time of one create.

Goal (issue 14): 10 linked clones over 5 nodes, with 0.5 s per clone task and 20 ms per
request, finish in at most 2x the wall time of one create. The simulator has shared storage
(linked clones to other nodes need it), every request is delayed 20 ms, and the clone task
takes 0.5 s; the other tasks keep the simulator's defaults. Both runs go through
``Provisioner`` in-process (``create_vm`` and ``create_vms``), after one warm-up create.

    .venv/bin/python bench/bench_bulk.py [--count 10] [--nodes 5] [--runs 3]
                                         [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from doc_section import write_section

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key

RATIO_GOAL = 2.0


def _one(p: Provisioner, key: str, name: str) -> float:
    started = time.perf_counter()
    p.create_vm({"template": "rocky9", "name": name, "ssh_keys": [key]}, actor="bench")
    return time.perf_counter() - started


def _many(p: Provisioner, key: str, name: str, count: int) -> tuple[float, Counter[str], int]:
    started = time.perf_counter()
    result = p.create_vms({"template": "rocky9", "name": name, "ssh_keys": [key]}, count,
                          actor="bench")  # fmt: skip
    wall = time.perf_counter() - started
    nodes = Counter(i.result.vm.node for i in result.items if i.result is not None)
    return wall, nodes, len(result.failed)


def measure(count: int, nodes: int, runs: int) -> dict[str, Any]:
    limits = {"max_count": max(count, 10), "parallel_per_node": 4}
    extra = {"limits": limits, "defaults": {"vm_storage": "shared"}}
    with (
        SimEnvironment(nodes=nodes, shared_storage=True, policy=extra) as env,
        tempfile.TemporaryDirectory() as tmp,
    ):
        policy = load_policy(env.config_path)
        p = Provisioner.from_settings(ProxmoxSettings.from_env(env.env), policy, Path(tmp, "a.db"))
        p.build_template("rocky9", actor="bench")
        env.pve.state.rrd_lag = 0
        env.pve.faults.latency(0.02)
        env.pve.faults.task_duration("qmclone", 0.5)
        key = new_ssh_key("bench@example")
        _one(p, key, "warm")
        singles, sets, spread, failed = [], [], Counter(), 0
        for run in range(runs):
            singles.append(_one(p, key, f"single{run}"))
            wall, where, bad = _many(p, key, f"set{run}", count)
            sets.append(wall)
            spread.update(where)
            failed += bad
    one, many = statistics.median(singles), statistics.median(sets)
    return {"one": one, "many": many, "ratio": many / one, "spread": dict(spread),
            "failed": failed, "count": count, "nodes": nodes, "runs": runs}  # fmt: skip


def table(r: dict[str, Any]) -> str:
    spread = ", ".join(f"{n}: {c}" for n, c in sorted(r["spread"].items()))
    return "\n".join([
        f"{r['count']} linked clones over {r['nodes']} simulated nodes (shared storage, 20 ms "
        f"per request, 0.5 s per clone task), median of {r['runs']} runs:",
        "",
        f"| one create | --count {r['count']} | ratio (goal <= {RATIO_GOAL:.0f}x) | VMs per node "
        "| failed |",
        "|---|---|---|---|---|",
        f"| {r['one']:.2f} s | {r['many']:.2f} s | {r['ratio']:.2f}x | {spread} | {r['failed']} |",
    ])  # fmt: skip


def write(path: Path, text: str) -> None:
    write_section(path, "bench_bulk", text, heading="Bulk creates")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", type=Path, help="Update the bulk section of a file.")
    args = parser.parse_args(argv)
    result = measure(args.count, args.nodes, args.runs)
    text = table(result)
    print(text)
    if args.write:
        write(args.write, text)
    ok = result["ratio"] <= RATIO_GOAL and result["failed"] == 0
    print(f"--count {args.count} within {RATIO_GOAL:.0f}x of one create: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
