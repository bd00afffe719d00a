"""`solti snapshot create|list|rollback|delete` against the simulator: the policy's limits,
PVE's rules said before anything changes, one-line errors, and an audit record per action."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from solti.provisioning.audit_log import AuditLog
from solti.sandbox.environment import SimEnvironment, merge_policy
from tests.cli.clihelpers import solti


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    world.reset()
    world.pve.state.add_vm(100, "web-1", running=True)
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db")}


def with_policy(env: dict[str, str], world: SimEnvironment, tmp_path: Path, **snapshots: Any):
    path = tmp_path / "policy.yaml"
    policy = merge_policy(world.policy(), {"snapshots": snapshots})
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return {**env, "SOLTI_CONFIG": str(path)}


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def actions(env: dict[str, str]) -> list[tuple[str, str, str | None]]:
    records = AuditLog(env["SOLTI_DB"]).query(vmid=100, limit=None)
    return [(r.action, r.result, (r.params or {}).get("snapshot")) for r in reversed(records)]


def names(world: SimEnvironment) -> list[str]:
    return sorted(world.pve.state.guests[100].snapshots)


def test_create_with_default_name_list_and_audit(env, world):
    made = as_json(solti(env, "snapshot", "create", "100", "--description", "before", "--json"))
    assert re.fullmatch(r"solti-\d{6}-\d{4}", made["snapshot"]), made
    assert made["name"] == "web-1" and made["status"] == "running"
    listed = as_json(solti(env, "snapshot", "list", "100", "--json"))
    assert [s["name"] for s in listed["snapshots"]] == [made["snapshot"]]
    assert listed["snapshots"][0]["description"] == "before"
    assert listed["current_parent"] == made["snapshot"]
    table = solti(env, "snapshot", "list", "100")
    assert table.exit_code == 0 and made["snapshot"] in table.stdout
    assert actions(env) == [("snapshot create", "ok", made["snapshot"])]


def test_over_max_per_vm_names_the_snapshot_to_delete(env, world, tmp_path):
    env = with_policy(env, world, tmp_path, max_per_vm=2)
    for name in ("first", "second"):
        assert solti(env, "snapshot", "create", "100", name).exit_code == 0
    error = one_line_error(solti(env, "snapshot", "create", "100", "third"))
    assert "snapshots.max_per_vm allows (2)" in error
    assert "`snapshot delete 100 first`" in error
    assert names(world) == ["first", "second"]
    assert actions(env)[-1] == ("snapshot create", "failed", "third")


def test_memory_only_when_allowed_and_running(env, world, tmp_path):
    error = one_line_error(solti(env, "snapshot", "create", "100", "ram", "--memory"))
    assert "snapshots.allow_memory is false" in error
    allowed = with_policy(env, world, tmp_path, allow_memory=True)
    assert solti(allowed, "snapshot", "create", "100", "ram", "--memory").exit_code == 0
    assert world.pve.state.guests[100].snapshots["ram"].vmstate == "local-lvm:vm-100-state-ram"
    world.pve.state.add_vm(101, "stopped-1")
    error = one_line_error(solti(allowed, "snapshot", "create", "101", "ram", "--memory"))
    assert "VM 101 is not running" in error


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("current", "is reserved by Proxmox"),
        ("9lives", "start with a letter"),
        ("x" * 41, "at most 40 are allowed"),
        ("a", "start with a letter, then at least one"),
    ],
)
def test_bad_names_are_refused_before_proxmox(env, world, name, says):
    before = len(world.pve.requests)
    error = one_line_error(solti(env, "snapshot", "create", "100", name))
    assert says in error
    assert not [r for r in world.pve.requests[before:] if r.method != "GET"]


def test_disk_that_cannot_be_snapshotted_is_named(env, world):
    world.pve.state.add_vm(102, "raw-1", storage="local-lvm",
                           scsi1="local:102/vm-102-disk-1.raw,size=1G")  # fmt: skip
    error = one_line_error(solti(env, "snapshot", "create", "102", "s1"))
    assert "disk scsi1 (local:102/vm-102-disk-1.raw) is a raw image on storage 'local' (dir)" in (
        error
    )
    assert not world.pve.state.guests[102].snapshots


def test_template_is_refused(env, world):
    world.pve.state.add_template(9000, "rocky9-template")
    error = one_line_error(solti(env, "snapshot", "create", "9000"))
    assert "9000 is a template" in error


def test_duplicate_name_is_refused(env, world):
    assert solti(env, "snapshot", "create", "100", "twice").exit_code == 0
    error = one_line_error(solti(env, "snapshot", "create", "100", "twice"))
    assert "already has a snapshot named `twice`" in error


def _rollback_starts(world) -> list[object]:
    """The ``start`` parameter of each rollback request PVE received."""
    return [r.params.get("start") for r in world.pve.requests if r.path.endswith("/rollback")]


def test_rollback_needs_yes_says_what_is_lost_and_starts_a_running_vm_again(env, world):
    assert solti(env, "snapshot", "create", "100", "base").exit_code == 0
    refused = solti(env, "snapshot", "rollback", "100", "base")
    assert refused.exit_code == 1
    assert "is lost" in refused.stderr and "refusing without --yes" in refused.stderr
    assert "it is stopped, then started again from the snapshot's disks" in refused.stderr
    assert world.pve.state.guests[100].running
    done = as_json(solti(env, "snapshot", "rollback", "100", "base", "--yes", "--json"))
    assert done["status"] == "running"
    assert world.pve.state.guests[100].running  # PVE's start=1: the owner's VM as it was
    assert _rollback_starts(world) == ["1"]
    assert ("snapshot rollback", "ok", "base") in actions(env)


def test_rollback_no_start_leaves_a_running_vm_stopped(env, world):
    assert solti(env, "snapshot", "create", "100", "base").exit_code == 0
    refused = solti(env, "snapshot", "rollback", "100", "base", "--no-start")
    assert "it is stopped and stays stopped" in refused.stderr
    done = as_json(
        solti(env, "snapshot", "rollback", "100", "base", "--no-start", "--yes", "--json")
    )
    assert done["status"] == "stopped"
    assert not world.pve.state.guests[100].running
    assert _rollback_starts(world) == [None]


def test_rollback_of_a_stopped_vm_leaves_it_stopped(env, world):
    assert solti(env, "snapshot", "create", "100", "base").exit_code == 0
    world.pve.state.guests[100].running = False  # stopped outside solti
    done = as_json(solti(env, "snapshot", "rollback", "100", "base", "--yes", "--json"))
    assert done["status"] == "stopped" and not world.pve.state.guests[100].running
    assert _rollback_starts(world) == [None]


def test_rollback_of_a_missing_snapshot_names_the_ones_there(env, world):
    assert solti(env, "snapshot", "create", "100", "base").exit_code == 0
    error = one_line_error(solti(env, "snapshot", "rollback", "100", "nosuch", "--yes"))
    assert "VM 100 has no snapshot named `nosuch` (it has: `base`)" in error
    assert actions(env)[-1] == ("snapshot rollback", "failed", "nosuch")


def test_delete(env, world):
    assert solti(env, "snapshot", "create", "100", "gone").exit_code == 0
    assert one_line_error(solti(env, "snapshot", "delete", "100", "gone")).endswith(
        "refusing without --yes (no terminal to confirm on)"
    )
    done = solti(env, "snapshot", "delete", "100", "gone", "--yes")
    assert done.exit_code == 0 and "snapshot gone deleted" in done.stdout
    assert names(world) == []
    assert actions(env)[-1] == ("snapshot delete", "ok", "gone")


def test_rollback_to_a_ram_snapshot_resumes_the_vm(env, world, tmp_path):
    allowed = with_policy(env, world, tmp_path, allow_memory=True)
    assert solti(allowed, "snapshot", "create", "100", "ram", "--memory").exit_code == 0
    done = as_json(solti(allowed, "snapshot", "rollback", "100", "ram", "--yes", "--json"))
    assert done["status"] == "running"
    assert world.pve.state.guests[100].running


def test_a_locked_vm_fails_with_proxmox_words_and_is_recorded(env, world):
    world.pve.faults.hold_lock(100, "backup", 60)
    error = one_line_error(solti(env, "snapshot", "create", "100", "busy"))
    assert "VM is locked (backup)" in error
    assert actions(env) == [("snapshot create", "failed", "busy")]
    assert names(world) == []


def test_request_id_takes_one_snapshot(env, world):
    for _ in range(2):
        result = solti(env, "snapshot", "create", "100", "once", "--request-id", "r-1")
        assert result.exit_code == 0, result.output
    assert "already taken by this request id" in result.stdout
    assert names(world) == ["once"]
