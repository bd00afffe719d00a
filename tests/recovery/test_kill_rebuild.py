"""Kill `solti vm rebuild` (SIGKILL) inside a step, then `solti reconcile --yes`: before the
destroy the old VM is left as it was; after it the VM is made again with its MAC and static
address, and no `running` record is left."""

# ruff: noqa: F811  (the fixture world is imported and used by name)
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import seed_build
from tests.recovery.kill import STRETCH, cli_env, kill_inside_step, running_step, solti, world  # noqa: F401


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    env = cli_env(world, tmp_path)
    seed_build(world, 9000, "9.6-20261101", day=10)
    made = solti(env, "vm", "create", "rocky9", "--ssh-key", new_ssh_key("ops@example"),
                 "--ip", "10.0.0.7/24", "--gw", "10.0.0.1")  # fmt: skip
    assert made.returncode == 0, made.stderr
    seed_build(world, 9001, "9.7-20261201", day=11)
    return env


@pytest.mark.parametrize("step", ["stop", "clone", "configure", "start"])
def test_kill_inside_a_rebuild_step_then_reconcile(
    env: dict[str, str], world: SimEnvironment, step: str
) -> None:
    before = dict(world.pve.state.guests[500].conf)
    faults = world.pve.faults
    faults.task_duration({"stop": "qmstop", "clone": "qmclone", "start": "qmstart"}.get(
        step, "qmclone"), STRETCH if step != "clone" else 3)  # fmt: skip
    if step == "configure":
        faults.clear()
        faults.latency(3, method="PUT", path="*/qemu/500/config")
    kill_inside_step(env, step, "vm", "rebuild", "500", "--yes")
    assert running_step(env["SOLTI_DB"]) == step
    faults.clear()
    done = solti(env, "reconcile", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    (finding,) = [f for f in json.loads(done.stdout)["findings"] if f["kind"] == "interrupted"]
    assert finding["action"] == "vm rebuild" and finding["step"] == step
    with sqlite3.connect(env["SOLTI_DB"]) as conn:
        results = [r[0] for r in conn.execute("SELECT result FROM audit ORDER BY id")]
    after = world.pve.state.guests[500].conf
    if step == "stop":
        assert "was not destroyed and is left as it is" in finding["plan"]
        assert results == ["ok", "failed"]
        assert after["scsi0"] == before["scsi0"]
    else:
        assert "finished by reconcile: VM 500" in finding["plan"], finding
        assert results == ["ok", "ok"]
        assert after["net0"] == before["net0"] and after["ipconfig0"] == before["ipconfig0"]
        assert world.pve.state.guests[500].running
        listed = json.loads(solti(env, "vm", "list", "--json").stdout)
        assert [(v["template_version"], v["owner"]) for v in listed] == [
            ("9.7-20261201", listed[0]["owner"])
        ]
    again = solti(env, "reconcile", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["findings"] == []
