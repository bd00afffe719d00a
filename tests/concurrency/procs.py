"""Several real `solti` processes at once, on one ``SOLTI_DB`` file and one simulated cluster.

Day thirty on a team: operators run `solti vm create`, `solti vm list`, `solti reconcile` and
`solti lease sweep` in terminals and cron, two at a time, on the same audit file. These helpers
start such processes together (``together``), read the audit file they share (``audit``) and
say what went wrong in one line per process (``explain``). Outcomes are counted, never timed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from solti.sandbox.environment import SimEnvironment

__all__ = ["Ran", "audit", "cli_env", "explain", "together"]


@dataclass(frozen=True)
class Ran:
    """One finished `solti` process: its arguments, exit code and output."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.err or "Traceback" in self.out


def cli_env(world: SimEnvironment, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A `solti` environment on ``world`` with its database in ``tmp_path`` (no RRD lag)."""
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db"), "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "USER": "ops", "LOGNAME": "ops",
            **extra}  # fmt: skip


def together(
    env: dict[str, str], commands: Sequence[Sequence[str]], *, timeout: float = 90
) -> list[Ran]:
    """Start every ``solti ARGS`` of ``commands`` at once and wait for all of them."""
    command = [sys.executable, "-m", "solti.cli"]
    pipes = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    procs = [
        (tuple(args), subprocess.Popen([*command, *args], env=env, text=True, **pipes))
        for args in commands
    ]
    ran = []
    for args, proc in procs:
        out, err = proc.communicate(timeout=timeout)
        ran.append(Ran(args, proc.returncode, out, err))
    return ran


def audit(db: str, sql: str = "SELECT action, result, vmid, name, error FROM audit ORDER BY id"
          ) -> list[tuple]:  # fmt: skip
    """Rows of the shared audit file."""
    with sqlite3.connect(db, timeout=30) as conn:
        return list(conn.execute(sql))


def explain(ran: Sequence[Ran]) -> str:
    """Every process's command, exit code and last stderr line, for assertion messages."""
    lines = []
    for r in ran:
        tail = (r.err.strip().splitlines() or [""])[-1]
        lines.append(f"{' '.join(r.args[:3])}: exit {r.code}: {tail}")
    return "\n".join(lines)
