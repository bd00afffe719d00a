"""`solti vm create` bounds, limits and flavors; `solti quota`; `solti vm give` (simulator)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import fresh_world, solti_env

FLEET = {
    "limits": {"per_vm": {"cores": 8, "memory": 16384, "disk": "500G"}},
    "flavors": {"small": {"cores": 1, "memory": 2048, "disk": "20G"}},
    "quotas": {"max_vms_per_user": 3, "cores": 4, "memory": None, "disk": "100G"},
}


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy=FLEET) as env:
        yield env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    fresh_world(world)
    return solti_env(world, tmp_path, USER="ops")


def test_numbers_are_refused_with_their_bound_before_any_arithmetic(env: dict[str, str]) -> None:
    huge = "9" * 5000
    for option, needle in (("--cores", "is not a whole number from 1 to 512"),
                           ("--memory", "is not a whole number from 16 to 4194304"),
                           ("--disk", "is too large; sizes go up to 1024P")):  # fmt: skip
        value = huge + "G" if option == "--disk" else huge
        result = solti(env, "vm", "create", "rocky9", option, value, "--dry-run")
        assert result.exit_code == 2 and needle in result.output, result.output
        assert len(result.output) < 1000 and "Traceback" not in result.output


def test_limits_and_flavors_in_the_dry_run(env: dict[str, str]) -> None:
    key = new_ssh_key("ops@example")
    over = solti(env, "vm", "create", "rocky9", "--disk", "5000000G", "--ssh-key", key,
                 "--dry-run")  # fmt: skip
    assert over.exit_code != 0
    assert "limits.per_vm.disk is 500G; you asked for 5000000G" in over.stderr
    plan = solti(env, "vm", "create", "rocky9", "--size", "small", "--ssh-key", key,
                 "--dry-run", "--json")  # fmt: skip
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    assert (data["cores"], data["memory"], data["disk_after"]) == (1, 2048, "20G")


def test_quota_json_and_a_create_over_the_cores_quota(env: dict[str, str]) -> None:
    key = new_ssh_key("ops@example")
    made = solti(env, "vm", "create", "rocky9", "--cores", "3", "--name", "big-1",
                 "--ssh-key", key, "--address-wait", "0", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    report = json.loads(solti(env, "quota", "--json").stdout)
    assert report["user"] == "ops"
    assert report["used"] == {"vms": 1, "cores": 3, "memory": 2048, "disk": "32G"}
    assert report["limits"] == {"vms": 3, "cores": 4, "memory": None, "disk": "100G"}
    refused = solti(env, "vm", "create", "rocky9", "--cores", "2", "--ssh-key", key)
    assert refused.exit_code != 0
    assert "quotas.cores: 3 of 4 cores used; this VM asks for 2" in refused.stderr
    assert "big-1" in refused.stderr
    other = json.loads(solti(env, "quota", "--user", "someone", "--json").stdout)
    assert other["used"]["vms"] == 0


def test_vm_give_moves_ownership_and_the_quota(env: dict[str, str]) -> None:
    key = new_ssh_key("ops@example")
    made = solti(env, "vm", "create", "rocky9", "--ssh-key", key, "--address-wait", "0",
                 "--json")  # fmt: skip
    vmid = json.loads(made.stdout)["vm"]["vmid"]
    given = solti(env, "vm", "give", str(vmid), "carol", "--json")
    assert json.loads(given.stdout) == {"vmid": vmid, "from": "ops", "to": "carol"}
    assert json.loads(solti(env, "quota", "--user", "carol", "--json").stdout)["used"]["vms"] == 1
    listed = json.loads(solti(env, "vm", "list", "--json").stdout)
    assert [v["owner"] for v in listed if v["vmid"] == vmid] == ["carol"]
    missing = solti(env, "vm", "give", "4242", "carol")
    assert missing.exit_code != 0 and "no VM with VMID 4242" in missing.stderr
