"""What the SIGKILL tests of the CLI share: a real `solti` process against the simulator,
its audit rows read from the database file it writes, and a kill once it is inside a step.

The fixtures ``world`` (one simulator per test module) and ``env`` (a fresh simulator with
the rocky9 template 9000, and a `solti` environment with its own database) are imported by
name into the test modules that use them.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.helpers.worlds import seed_template

__all__ = [
    "STRETCH", "audit_rows", "cli_env", "env", "kill_inside_step", "kill_when", "running_step",
    "solti", "start", "stretch_create_step", "world",
]  # fmt: skip

STRETCH = 30.0  # seconds a stretched step lasts: long enough to be killed inside


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment() as sim:
        yield sim


def stretch_create_step(world: SimEnvironment, step: str) -> None:
    """Make a create's ``step`` last long enough to be killed inside (the clone and the
    configure only 3 s: reconcile waits out the lock they hold)."""
    faults = world.pve.faults
    if step == "clone":
        faults.task_duration("qmclone", 3)
    elif step == "configure":
        faults.latency(3, method="PUT", path="*/qemu/500/config")
    elif step == "resize":
        faults.task_duration("resize", STRETCH)
    else:
        faults.task_duration("qmstart", STRETCH)


def cli_env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    """A reset simulator (no RRD lag) and the environment of a `solti` run on its own
    database in ``tmp_path``."""
    world.reset()
    world.pve.state.rrd_lag = 0
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db"), "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ["PYTHONPATH"]}  # fmt: skip


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    """``cli_env`` with the rocky9 template a create clones."""
    environment = cli_env(world, tmp_path)
    seed_template(world)
    return environment


def solti(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `solti ARGS` to its end."""
    return subprocess.run([sys.executable, "-m", "solti.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """Start `solti ARGS`, to be killed."""
    return subprocess.Popen([sys.executable, "-m", "solti.cli", *args], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def audit_rows(db: str) -> list[tuple[str, str | None, str | None]]:
    """``(result, step, error)`` of every audit row, oldest first; none before the file and
    its table exist."""
    try:
        with sqlite3.connect(db) as conn:
            return list(conn.execute("SELECT result, step, error FROM audit ORDER BY id"))
    except sqlite3.OperationalError:
        return []


def running_step(db: str) -> str | None:
    """The step of the ``running`` row: where the operation is (or was when it died)."""
    return next((step for result, step, _ in audit_rows(db) if result == "running"), None)


def kill_when(
    process: subprocess.Popen[bytes], inside: Callable[[], bool], what: str, *, polls: int = 600
) -> None:
    """SIGKILL ``process`` once ``inside()`` is true (plus a moment: its request is sent)."""
    try:
        for _ in range(polls):
            if inside():
                break
            assert process.poll() is None, f"the process ended before {what}"
            time.sleep(0.05)
        else:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.3)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def kill_inside_step(env: dict[str, str], step: str, *args: str) -> None:
    """Start `solti ARGS` and kill it once its ``running`` row says ``step``."""
    process = start(env, *args)
    kill_when(process, lambda: running_step(env["SOLTI_DB"]) == step, f"step {step}")
