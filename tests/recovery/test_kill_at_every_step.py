"""Kill `solti vm create` (SIGKILL) inside each step, then `solti reconcile --yes`: no half-made
VM and no `running` record are left (issue 12)."""

# ruff: noqa: F811  (the fixtures env and world are imported and used by name)
from __future__ import annotations

import json
import sqlite3

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key
from tests.recovery.kill import (  # noqa: F401  (fixtures env and world)
    env,
    kill_inside_step,
    running_step,
    solti,
    stretch_create_step,
    world,
)


@pytest.mark.parametrize("step", ["clone", "configure", "resize", "start"])
def test_kill_inside_a_create_step_then_reconcile(
    env: dict[str, str], world: SimEnvironment, step: str
) -> None:
    stretch_create_step(world, step)
    key = new_ssh_key("ops@example")
    kill_inside_step(env, step, "vm", "create", "rocky9", "--ssh-key", key, "--disk", "20G")
    assert running_step(env["SOLTI_DB"]) == step  # the record still says where it was
    world.pve.faults.clear()
    done = solti(env, "reconcile", "--yes", "--json")
    report = json.loads(done.stdout)
    (finding,) = [f for f in report["findings"] if f["kind"] == "interrupted"]
    assert finding["step"] == step
    assert f"interrupted at step {step}; half-made VM 500 removed" in finding["plan"], finding
    assert sorted(world.pve.state.guests) == [9000]
    with sqlite3.connect(env["SOLTI_DB"]) as conn:
        results = [r[0] for r in conn.execute("SELECT result FROM audit")]
    assert results == ["failed"]
    assert done.returncode == 0, done.stderr
    again = solti(env, "reconcile", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["findings"] == []
