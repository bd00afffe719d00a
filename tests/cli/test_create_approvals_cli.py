"""`solti vm create` over `approvals.vm_create`: the operator's CLI says what Slack would ask an
approver for, does not wait for one, and leaves an audit record naming the rules (simulator)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.provisioning.audit_log import AuditLog
from solti.sandbox.environment import SimEnvironment
from tests.cli.clihelpers import solti
from tests.helpers.keys import new_ssh_key
from tests.helpers.worlds import fresh_world, solti_env

RULES = {
    "approvals": {
        "vm_create": {"memory_over": 16384, "full_clone": True, "lease_over": "30d"},
        "required": 2,
    },
}


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy=RULES) as env:
        yield env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    fresh_world(world)
    return solti_env(world, tmp_path, USER="ops")


def test_the_dry_run_names_the_rules_and_keeps_json_one_document(env: dict[str, str]) -> None:
    key = new_ssh_key("ops@example")
    plan = solti(env, "vm", "create", "rocky9", "--memory", "32768", "--lease", "60d",
                 "--ssh-key", key, "--dry-run", "--json")  # fmt: skip
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["memory"] == 32768
    assert (
        "would need approval in Slack (memory 32768 MiB is over approvals.vm_create.memory_over "
        "16384; lease 60d is over approvals.vm_create.lease_over 30d); the CLI does not wait "
        "for one"
    ) in plan.stderr
    small = solti(env, "vm", "create", "rocky9", "--ssh-key", key, "--dry-run")
    assert small.exit_code == 0 and "approval" not in small.stderr, small.output


def test_a_create_over_a_threshold_runs_and_is_audited_as_unapproved(
    env: dict[str, str],
) -> None:
    key = new_ssh_key("ops@example")
    made = solti(env, "vm", "create", "rocky9", "--name", "big-cli", "--memory", "32768",
                 "--ssh-key", key, "--address-wait", "0", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    vmid = json.loads(made.stdout)["vm"]["vmid"]
    assert "note: no approval asked (memory 32768 MiB is over" in made.stderr
    rows = AuditLog(env["SOLTI_DB"]).query(vmid=vmid, limit=None)
    unapproved = [r for r in rows if r.action == "vm create unapproved"]
    assert len(unapproved) == 1 and unapproved[0].actor == "ops"
    assert unapproved[0].params["reasons"] == [
        "memory 32768 MiB is over approvals.vm_create.memory_over 16384"
    ]
    plain = solti(env, "vm", "create", "rocky9", "--name", "small-cli", "--ssh-key", key,
                  "--address-wait", "0", "--json")  # fmt: skip
    assert plain.exit_code == 0 and "approval" not in plain.stderr
    small_vmid = json.loads(plain.stdout)["vm"]["vmid"]
    rows = AuditLog(env["SOLTI_DB"]).query(vmid=small_vmid, limit=None)
    assert [r.action for r in rows] == ["vm create"]


def test_a_count_create_over_a_threshold_says_so_once_and_audits_each_vm(
    env: dict[str, str],
) -> None:
    key = new_ssh_key("ops@example")
    plan = solti(env, "vm", "create", "rocky9", "--count", "2", "--memory", "32768",
                 "--ssh-key", key, "--dry-run")  # fmt: skip
    assert plan.exit_code == 0 and plan.stderr.count("would need approval in Slack") == 1
    made = solti(env, "vm", "create", "rocky9", "--count", "2", "--name", "big-set",
                 "--memory", "32768", "--ssh-key", key, "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.stderr.count("note: no approval asked (memory 32768 MiB is over") == 1
    vmids = {v["vmid"] for v in json.loads(made.stdout)["vms"]}
    rows = AuditLog(env["SOLTI_DB"]).query(action="vm create unapproved", limit=None)
    assert {r.vmid for r in rows} == vmids and len(rows) == 2
