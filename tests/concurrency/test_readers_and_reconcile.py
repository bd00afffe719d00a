"""Readers and `solti reconcile` while creates are at work in other processes.

- `solti vm list` and `solti audit` started together with creates on a file none of them has
  made yet: no reader fails "database is locked" (each waits its busy timeout);
- `solti reconcile --yes` while a create is inside a step: the create's owner is alive, so its
  running record and half-made VM are left alone, and the create finishes ``ok``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from solti.sandbox.environment import SimEnvironment
from tests.concurrency.procs import audit, explain, together
from tests.concurrency.test_parallel_creates import create_args, vms


def test_readers_beside_creates_on_a_new_file(env: dict[str, str], world: SimEnvironment):
    readers = [["vm", "list", "--json"], ["audit", "--json"], ["vm", "list", "--json"],
               ["audit", "--json"]]  # fmt: skip
    ran = together(env, [create_args(), *readers, create_args()])
    assert all(r.code == 0 and not r.traceback for r in ran), explain(ran)
    assert not any("locked" in r.err for r in ran), explain(ran)
    for r in ran[1:-1]:
        json.loads(r.out)  # one JSON document each
    assert len(vms(world)) == 2


def _running_step(db: str) -> str | None:
    try:
        rows = audit(db, "SELECT step FROM audit WHERE result = 'running'")
    except Exception:  # the file or its table is not made yet
        return None
    return rows[0][0] if rows else None


def test_reconcile_leaves_a_create_in_flight_alone(env: dict[str, str], world: SimEnvironment):
    world.pve.faults.task_duration("qmstart", 4)
    create = subprocess.Popen([sys.executable, "-m", "solti.cli", *create_args()], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        for _ in range(400):  # polls, not a timed assertion: waits until it is inside start
            if _running_step(env["SOLTI_DB"]) == "start" or create.poll() is not None:
                break
            time.sleep(0.02)
        assert _running_step(env["SOLTI_DB"]) == "start", create.communicate()
        reconciled = together(env, [["reconcile", "--yes", "--json"]] * 2)
    finally:
        out, err = create.communicate(timeout=60)
    assert create.returncode == 0, err
    assert all(not r.traceback for r in reconciled), explain(reconciled)
    for r in reconciled:
        findings = json.loads(r.out)["findings"]
        assert not [f for f in findings if f.get("kind") == "interrupted"], findings
    vmid = json.loads(out)["vm"]["vmid"]
    assert vmid in vms(world)
    rows = audit(env["SOLTI_DB"], "SELECT action, result FROM audit WHERE vmid = ?".replace(
        "?", str(vmid)))  # fmt: skip
    assert rows == [("vm create", "ok")], rows
