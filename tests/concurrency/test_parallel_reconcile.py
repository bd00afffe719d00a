"""Two `solti reconcile --yes` at once (cron, and the bot's recovery job at start), on one
audit file: each interrupted operation is closed by one of them, and a VM removed outside
solti is recorded ``vm gone`` once.

Both survey the same ``running`` record of a killed create and would both act on it; the
record is taken over first (``reconcile_actions._take_over``: a compare-and-set of its owner), so
the other leaves it. A ``vm gone`` is written only while the VM is still someone's.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.reconcile_actions import carry_out
from solti.provisioning.reconciliation import survey
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.concurrency.procs import audit, explain, together
from tests.concurrency.test_parallel_creates import create_args, vms
from tests.recovery.kill import kill_inside_step, running_step

RECONCILES = 3


def _closed_by(ran: list) -> list[str]:
    """The ``done`` of every interrupted finding, over all reconciles."""
    return [f["done"] for r in ran for f in json.loads(r.out)["findings"]
            if f["kind"] == "interrupted"]  # fmt: skip


def test_parallel_reconciles_close_a_killed_create_once(env: dict[str, str], world: SimEnvironment):
    world.pve.faults.task_duration("resize", 30)
    kill_inside_step(env, "resize", *create_args("--disk", "20G"))
    assert running_step(env["SOLTI_DB"]) == "resize"
    world.pve.faults.clear()
    ran = together(env, [["reconcile", "--yes", "--json"]] * RECONCILES)
    assert all(not r.traceback for r in ran), explain(ran)
    assert vms(world) == {}
    closed = [d for d in _closed_by(ran) if d and d.startswith("closed")]
    assert len(closed) == 1, _closed_by(ran)
    assert audit(env["SOLTI_DB"], "SELECT action, result FROM audit") == [("vm create", "failed")]


def test_parallel_reconciles_record_a_vm_gone_once(env: dict[str, str], world: SimEnvironment):
    made = together(env, [create_args()])
    assert made[0].code == 0, explain(made)
    vmid = json.loads(made[0].out)["vm"]["vmid"]
    world.pve.state.guests.drop(vmid)  # removed outside solti
    assert vms(world) == {}, "the VM is removed outside solti"
    ran = together(env, [["reconcile", "--yes", "--json"]] * RECONCILES)
    assert all(not r.traceback for r in ran), explain(ran)
    rows = audit(env["SOLTI_DB"], "SELECT action, result FROM audit")
    assert Counter(rows) == {("vm create", "ok"): 1, ("vm gone", "ok"): 1}, rows


def test_two_reconciles_that_both_surveyed_record_the_vm_gone_once(
    env: dict[str, str], world: SimEnvironment
) -> None:
    """The deterministic interleaving of the test above (which CI saw fail): two reconciles,
    each on its own connection to the file as two processes are, both survey while the VM is
    still owned, then both carry out. The owner is read again and the record written under the
    file's write lock (``reconcile_actions._record_gone``), so the second one leaves it."""
    made = together(env, [create_args()])
    assert made[0].code == 0, explain(made)
    vmid = json.loads(made[0].out)["vm"]["vmid"]
    world.pve.state.guests.drop(vmid)
    settings, policy = ProxmoxSettings.from_env(world.env), load_policy(world.config_path)
    first, second = (Provisioner.from_settings(settings, policy, env["SOLTI_DB"]) for _ in range(2))
    stale = timedelta(minutes=10)
    seen = [survey(p.ops, stale_after=stale) for p in (first, second)]
    assert [[(f.kind, f.vmid) for f in s] for s in seen] == [[("vm gone", vmid)]] * 2
    done = [
        carry_out(p.ops, s, destructive=True).findings[0].done
        for p, s in zip((first, second), seen, strict=True)
    ]
    assert done == ["recorded `vm gone`", "left alone: another reconcile recorded it"]
    rows = audit(env["SOLTI_DB"], "SELECT action, result FROM audit")
    assert Counter(rows) == {("vm create", "ok"): 1, ("vm gone", "ok"): 1}, rows
