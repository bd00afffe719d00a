"""`solti vm create TEMPLATE --count N` against the simulator (issue 14, "Bulk creates")."""

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

POLICY = {
    "limits": {"max_count": 4, "parallel_per_node": 2},
    "quotas": {"max_vms_per_user": 5},
}


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy=POLICY) as env:
        yield env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    fresh_world(world)
    return solti_env(world, tmp_path, USER="ops")


def _create(env: dict[str, str], *args: str) -> object:
    key = new_ssh_key("ops@example")
    return solti(env, "vm", "create", "rocky9", "--ssh-key", key, "--address-wait", "0", *args)


def _vm_names(world: SimEnvironment) -> set[str]:
    return {g.conf.get("name", "") for g in world.pve.state.guests.values() if not g.is_template}


def test_a_dry_run_plans_n_names_and_distinct_ids(env: dict[str, str], world: SimEnvironment):
    result = _create(env, "--count", "3", "--name", "lab", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plans = json.loads(result.stdout)
    assert [p["name"] for p in plans] == ["lab-1", "lab-2", "lab-3"]
    assert len({p["vmid"] for p in plans}) == 3
    assert _vm_names(world) == set()  # a dry run makes nothing


def test_count_makes_n_vms_each_with_its_own_audit_record(
    env: dict[str, str], world: SimEnvironment
) -> None:
    result = _create(env, "--count", "4", "--name", "lab", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"] == "4 of 4 VMs made"
    assert {v["name"] for v in report["vms"]} == {"lab-1", "lab-2", "lab-3", "lab-4"}
    assert all(v["status"] == "running" and v["error"] is None for v in report["vms"])
    assert _vm_names(world) == {"lab-1", "lab-2", "lab-3", "lab-4"}
    records = [r for r in AuditLog(env["SOLTI_DB"]).query() if r.action == "vm create"]
    assert sorted(r.name for r in records if r.result == "ok") == [f"lab-{i}" for i in range(1, 5)]
    assert len({r.request_id for r in records}) == 4


def test_at_most_parallel_per_node_clones_run_at_once(
    env: dict[str, str], world: SimEnvironment
) -> None:
    """A clone is open from its clone POST until its VM's start POST (the create's last
    step); the request log's order shows how many were open together: never more than
    ``limits.parallel_per_node`` (2 here) on one node."""
    world.pve.faults.task_duration("qmclone", 0.3)
    first = len(world.pve.requests)
    assert _create(env, "--count", "4", "--name", "par").exit_code == 0
    open_now, most = 0, 0
    for record in world.pve.requests[first:]:
        if record.method != "POST":
            continue
        if record.path.endswith("/clone"):
            open_now += 1
            most = max(most, open_now)
        elif record.path.endswith("/status/start"):
            open_now -= 1
    assert 1 <= most <= 2


def test_count_over_the_limit_is_refused_before_anything(
    env: dict[str, str], world: SimEnvironment
) -> None:
    result = _create(env, "--count", "5")
    assert result.exit_code == 1
    assert "count: must be from 1 to 4 (policy limits.max_count), got 5" in result.stderr
    assert _vm_names(world) == set()


def test_the_quota_counts_all_n_before_anything_starts(
    env: dict[str, str], world: SimEnvironment
) -> None:
    assert _create(env, "--name", "first").exit_code == 0
    assert _create(env, "--name", "second").exit_code == 0
    refused = _create(env, "--count", "4", "--name", "set")
    assert refused.exit_code == 1
    assert "4 VMs would pass your quota" in refused.stderr and "none made" in refused.stderr
    assert _vm_names(world) == {"first", "second"}


def test_a_taken_name_static_ip_or_vmid_is_refused(
    env: dict[str, str], world: SimEnvironment
) -> None:
    assert _create(env, "--name", "web-2").exit_code == 0
    taken = _create(env, "--count", "3", "--name", "web")
    assert taken.exit_code == 1 and "web-2 is taken" in taken.stderr
    ip = _create(env, "--count", "2", "--ip", "10.0.0.5/24", "--gw", "10.0.0.1")
    assert ip.exit_code == 1 and "ip: a static address cannot be given with --count" in ip.stderr
    vmid = _create(env, "--count", "2", "--vmid", "300")
    assert vmid.exit_code == 1 and "vmid: a VMID cannot be given with --count" in vmid.stderr
    assert _vm_names(world) == {"web-2"}


def test_one_failure_leaves_the_others_and_says_which(
    env: dict[str, str], world: SimEnvironment
) -> None:
    world.pve.faults.fail_next_task("qmclone", "unable to create image: no space left")
    result = _create(env, "--count", "3", "--name", "mix", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"].startswith("2 of 3 VMs made; ")
    failed = [v for v in report["vms"] if v["status"] == "failed"]
    assert len(failed) == 1 and "no space left" in failed[0]["error"]
    assert failed[0]["name"] in report["summary"]
    assert _vm_names(world) == {v["name"] for v in report["vms"] if v["status"] == "running"}
    records = AuditLog(env["SOLTI_DB"]).query()
    assert sorted(r.result for r in records if r.action == "vm create") == ["failed", "ok", "ok"]
