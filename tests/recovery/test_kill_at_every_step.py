"""Kill `solti vm create` (SIGKILL) inside each step, then `solti reconcile --yes`: no half-made
VM and no `running` record are left (issue 12)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key

STRETCH = 30.0  # seconds a stretched step lasts: long enough to be killed inside


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    world.reset()
    world.pve.state.rrd_lag = 0
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                                 tags=["solti", "template", "rocky9"])  # fmt: skip
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db"), "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ["PYTHONPATH"]}  # fmt: skip


def _solti(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "solti.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def _running_step(db: str) -> str | None:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT step FROM audit WHERE result = 'running'").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _kill_inside(env: dict[str, str], step: str) -> None:
    key = new_ssh_key("ops@example")
    create = subprocess.Popen(
        [sys.executable, "-m", "solti.cli", "vm", "create", "rocky9", "--ssh-key", key,
         "--disk", "20G"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            if _running_step(env["SOLTI_DB"]) == step:
                break
            assert create.poll() is None, f"the create ended before step {step}"
            time.sleep(0.05)
        else:
            raise AssertionError(f"never saw step {step}")
        time.sleep(0.3)  # inside the step, its request sent
    finally:
        os.kill(create.pid, signal.SIGKILL)
        create.wait()


@pytest.mark.parametrize("step", ["clone", "configure", "resize", "start"])
def test_kill_inside_a_create_step_then_reconcile(
    env: dict[str, str], world: SimEnvironment, step: str
) -> None:
    faults = world.pve.faults
    if step == "clone":
        faults.task_duration("qmclone", 3)
    elif step == "configure":
        faults.latency(3, method="PUT", path="*/qemu/500/config")
    elif step == "resize":
        faults.task_duration("resize", STRETCH)
    else:
        faults.task_duration("qmstart", STRETCH)
    _kill_inside(env, step)
    assert _running_step(env["SOLTI_DB"]) == step  # the record still says where it was
    faults.clear()
    done = _solti(env, "reconcile", "--yes", "--json")
    report = json.loads(done.stdout)
    (finding,) = [f for f in report["findings"] if f["kind"] == "interrupted"]
    assert finding["step"] == step
    assert f"interrupted at step {step}; half-made VM 500 removed" in finding["plan"], finding
    assert sorted(world.pve.state.guests) == [9000]
    with sqlite3.connect(env["SOLTI_DB"]) as conn:
        results = [r[0] for r in conn.execute("SELECT result FROM audit")]
    assert results == ["failed"]
    assert done.returncode == 0, done.stderr
    again = _solti(env, "reconcile", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["findings"] == []
