"""`solti vm rebuild` in the terminal: the plan, --yes, nothing to do, refusals (simulator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import seed_build, solti_env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    world.reset()
    world.pve.state.rrd_lag = 0
    seed_build(world, 9000, "9.6-20261101", day=1)
    env = solti_env(world, tmp_path, USER="ops")
    made = solti(
        env,
        "vm",
        "create",
        "rocky9",
        "--ssh-key",
        new_ssh_key("ops@example"),
        "--ip",
        "10.0.0.5/24",
        "--gw",
        "10.0.0.1",
        "--name",
        "web-1",
    )
    assert made.exit_code == 0, made.output
    return env


def test_plan_then_rebuild_with_yes(env: dict[str, str], world: SimEnvironment) -> None:
    seed_build(world, 9001, "9.7-20261201", day=30)
    mac = world.pve.state.guests[500].conf["net0"]
    plan = solti(env, "vm", "rebuild", "500", "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert "rocky9-template 9.6-20261101 (VMID 9000) -> rocky9-template 9.7-20261201" in plan.output
    assert "the disk's contents are lost" in plan.output
    assert world.pve.state.guests[500].conf["net0"] == mac
    refused = solti(env, "vm", "rebuild", "500")  # no terminal, no --yes
    assert refused.exit_code == 1 and "refusing without --yes" in refused.output
    done = solti(env, "vm", "rebuild", "500", "--yes", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["vm"]["template_version"] == "9.7-20261201" and result["vm"]["owner"] == "ops"
    assert world.pve.state.guests[500].conf["net0"] == mac
    again = solti(env, "vm", "rebuild", "500", "--yes")
    assert again.exit_code == 0
    assert "VM 500 (web-1) is already on 9.7-20261201; nothing to do" in again.output
    listed = json.loads(solti(env, "vm", "list", "--json").output)
    assert [(v["vmid"], v["template_version"]) for v in listed] == [(500, "9.7-20261201")]


def test_refusals_are_one_sentence_and_exit_1(env: dict[str, str], world: SimEnvironment) -> None:
    world.pve.state.add_vm(600, "handmade")
    other = solti(env, "vm", "rebuild", "600", "--yes")
    assert other.exit_code == 1 and "not made by Solti (no create record)" in other.output
    missing = solti(env, "vm", "rebuild", "500", "--template", "debian12", "--yes")
    assert missing.exit_code == 1 and "debian12" in missing.output
    for result in (other, missing):
        assert "Traceback" not in result.output
    assert sorted(world.pve.state.guests) == [500, 600, 9000]
