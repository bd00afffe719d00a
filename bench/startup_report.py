"""The Markdown section `bench_startup.py` prints and writes into docs/performance.md.

Apart from the measuring so the figures' wording can change without touching how they are
taken; the goals and the floor's task list are the bench's.
"""

from __future__ import annotations

import os
import platform
import statistics
import textwrap
from pathlib import Path
from typing import Any

GOAL_IMPORT_MS = 150.0
GOAL_SPEEDUP = 10.0
# The simulator's tasks of one create (linked clone, disk growth, start): a create waits for
# them whatever its own cost. The cloud-init update is synchronous (no task).
CREATE_TASKS = ("qmclone", "resize", "qmstart")


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{model or platform.processor() or platform.machine()}, {cpus} CPUs, " + (
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )


def report(imports: list[dict[str, Any]], creates: dict[str, Any] | None, runs: int) -> str:
    lines = [
        "## Start-up",
        "",
        textwrap.fill(
            f"Measured by `bench/bench_startup.py` on {machine()} (median of {runs} fresh "
            "processes each). Import time is what `python -X importtime` reports for the top-level "
            "imports of `python -m solti <verb> --help`, less those of a bare `python -c pass`; "
            "wall time is the whole `--help` process, of which the bare interpreter takes "
            f"{imports[0]['bare_ms'] if imports else float('nan'):.0f} ms.",
            100,
        ),
        "",
        f"| verb | import time | `--help` wall time | goal < {GOAL_IMPORT_MS:.0f} ms |",
        "|---|---|---|---|",
    ]
    for row in imports:
        goal = "met" if row["import_ms"] < GOAL_IMPORT_MS else "not met"
        if row["verb"] not in ("vm",):
            goal = "—"
        lines.append(
            f"| `solti {row['verb']}` | {row['import_ms']:.0f} ms | {row['wall_ms']:.0f} ms "
            f"| {goal} |"
        )
    if creates:
        goal = "met" if creates["create_import_ms"] < GOAL_IMPORT_MS else "not met"
        lines += [
            f"| `solti vm create`, a whole create against the simulator "
            f"| {creates['create_import_ms']:.0f} ms | — | {goal} |",
            "",
            "| the same VM (linked clone, cloud-init, disk growth, start) | wall time (median) "
            "| CPU time (median) |",
            "|---|---|---|",
            f"| `solti vm create` (whole process) | {creates['solti_s']:.2f} s "
            f"| {creates['solti_cpu_s']:.2f} s |",
        ]
        if "ansible_s" in creates:
            speedup = creates["ansible_s"] / creates["solti_s"]
            lines.append(
                f"| Ansible playbook, community.proxmox modules | {creates['ansible_s']:.2f} s "
                f"| {creates['ansible_cpu_s']:.2f} s |"
            )
            ratios = ", ".join(f"{ratio:.1f}x" for ratio in creates["ratios"])
            lines += [
                "",
                f"`solti vm create` is **{speedup:.1f}x** faster than the playbook (ratio of the "
                f"medians; goal: {GOAL_SPEEDUP:.0f}x, "
                f"{'met' if speedup >= GOAL_SPEEDUP else 'not met'}). The two ran interleaved; "
                f"the ratio of each pair of runs: {ratios}.",
            ]
        lines += _floor_lines(creates)
    if creates and creates.get("instructions"):
        counts = sorted(creates["instructions"])
        lines += [
            "",
            "Instructions of one whole `solti vm create` (valgrind's callgrind, steady under "
            f"load): **{statistics.median(counts) / 1e6:,.0f} million** (median; runs: "
            f"{', '.join(f'{count / 1e6:,.1f}' for count in counts)} million).",
        ]
    return "\n".join(lines)


def _floor_lines(creates: dict[str, Any]) -> list[str]:
    """The stack's floor and the best ratio it leaves: the bound any create on it meets."""
    if "floor_s" not in creates:
        return []
    bound = creates["floor_s"] + creates["task_s"]
    lines = [
        "",
        "| the floor of the stack | wall time (median) | CPU time (median) |",
        "|---|---|---|",
        f"| a process importing only proxmoxer + requests, pydantic (one model validated) and "
        f"sqlite3 | {creates['floor_s']:.2f} s | {creates['floor_cpu_s']:.2f} s |",
        "",
    ]
    text = (
        f"A create also waits for the simulator's tasks ({', '.join(CREATE_TASKS)}: "
        f"{creates['task_s']:.2f} s), so even a create whose own code cost nothing would take "
        f"at least {bound:.2f} s on this stack"
    )
    if "ansible_s" in creates:
        text += f": at best **{creates['ansible_s'] / bound:.1f}x** faster than the playbook"
    lines.append(textwrap.fill(text + ".", 100))
    return lines
