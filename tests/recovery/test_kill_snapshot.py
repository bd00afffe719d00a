"""Kill `solti snapshot create|rollback|delete` (SIGKILL) inside its PVE task, then
`solti reconcile --yes --json`: the record is closed by what the VM's snapshot list says
(issue 15), not as a blind `failed`. The task is stretched with the simulator's
``task_duration`` fault so the kill lands inside it; PVE's worker goes on without the CLI.
"""

# ruff: noqa: F811  (the fixtures env and world are imported and used by name)
from __future__ import annotations

import json
import sqlite3
from typing import Any

from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key
from tests.recovery.kill import env, kill_inside_step, solti, world  # noqa: F401

STRETCH = 3.0  # seconds a stretched task lasts; reconcile waits it out


def _vm(env: dict[str, str]) -> None:
    made = solti(env, "vm", "create", "rocky9", "--ssh-key", new_ssh_key("ops@example"))
    assert made.returncode == 0, made.stderr


def _kill_inside(env: dict[str, str], *args: str) -> None:
    """Kill `solti snapshot ARGS` inside its task (step ``snapshot`` for a create)."""
    kill_inside_step(env, args[0] if args[0] != "create" else "snapshot", "snapshot", *args)


def _reconcile(env: dict[str, str], action: str) -> tuple[dict[str, Any], tuple[Any, ...]]:
    done = solti(env, "reconcile", "--yes", "--json")
    assert done.stdout, done.stderr
    (finding,) = [f for f in json.loads(done.stdout)["findings"] if f["kind"] == "interrupted"]
    assert finding["action"] == action
    with sqlite3.connect(env["SOLTI_DB"]) as conn:
        (row,) = conn.execute(
            "SELECT result, error FROM audit WHERE action = ?", [action]
        ).fetchall()
    again = json.loads(solti(env, "reconcile", "--json").stdout)
    assert [f for f in again["findings"] if f["kind"] == "interrupted"] == []
    return finding, row


def test_a_create_whose_snapshot_was_taken_is_closed_ok(
    env: dict[str, str], world: SimEnvironment
) -> None:
    _vm(env)
    world.pve.faults.task_duration("qmsnapshot", STRETCH)
    _kill_inside(env, "create", "500", "before")
    finding, row = _reconcile(env, "snapshot create")
    assert finding["done"] and "snapshot `before` of VM 500 was taken" in finding["plan"]
    assert row[0] == "ok"
    assert "before" in world.pve.state.guests[500].snapshots


def test_a_create_whose_task_failed_is_closed_not_taken(
    env: dict[str, str], world: SimEnvironment
) -> None:
    _vm(env)
    world.pve.faults.task_duration("qmsnapshot", STRETCH)
    world.pve.faults.fail_next_task("qmsnapshot", "lvcreate snapshot error: thin pool full")
    _kill_inside(env, "create", "500", "before")
    _, row = _reconcile(env, "snapshot create")
    assert row == ("failed", "interrupted at step snapshot; snapshot `before` of VM 500 "
                             "was not taken")  # fmt: skip
    assert world.pve.state.guests[500].snapshots == {}
    assert "lock" not in world.pve.state.guests[500].conf  # PVE's cleanup freed it


def test_a_delete_whose_snapshot_is_gone_is_closed_ok(
    env: dict[str, str], world: SimEnvironment
) -> None:
    _vm(env)
    assert solti(env, "snapshot", "create", "500", "old").returncode == 0
    world.pve.faults.task_duration("qmdelsnapshot", STRETCH)
    _kill_inside(env, "delete", "500", "old", "--yes")
    finding, row = _reconcile(env, "snapshot delete")
    assert "snapshot `old` of VM 500 is deleted" in finding["plan"] and row[0] == "ok"
    assert world.pve.state.guests[500].snapshots == {}


def test_a_rollback_is_closed_with_what_pve_says(
    env: dict[str, str], world: SimEnvironment
) -> None:
    _vm(env)
    assert solti(env, "snapshot", "create", "500", "good").returncode == 0
    world.pve.faults.task_duration("qmrollback", STRETCH)
    _kill_inside(env, "rollback", "500", "good", "--yes")
    finding, row = _reconcile(env, "snapshot rollback")
    assert row[0] == "ok", row
    assert "VM 500 is rolled back to `good`; PVE says VM 500 is" in finding["plan"]
    assert "and not locked" in finding["plan"]


def test_a_rollback_that_failed_leaves_its_lock_for_a_person(
    env: dict[str, str], world: SimEnvironment
) -> None:
    _vm(env)
    assert solti(env, "snapshot", "create", "500", "good").returncode == 0
    world.pve.faults.task_duration("qmrollback", STRETCH)
    world.pve.faults.fail_next_task("qmrollback", "rbd rollback failed")
    _kill_inside(env, "rollback", "500", "good", "--yes")
    finding, row = _reconcile(env, "snapshot rollback")
    assert row[0] == "failed" and finding["person"]
    assert (
        "the rollback to `good` did not complete: PVE says VM 500 is stopped and locked "
        "(rollback); a person looks, then `qm unlock 500`" in row[1]
    ), row
