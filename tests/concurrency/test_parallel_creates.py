"""`solti vm create` of one template in several terminals at once, on one audit file.

Without ``--vmid``/``--name`` every process plans from its own ``/cluster/resources``
snapshot, taken before any of the others has cloned: all would pick the same VMID and name.
Each must end with a VM of its own (distinct VMID and name) or a clear one-line refusal, and the
audit file must hold exactly one finished record per VM made.
"""

from __future__ import annotations

import json

from solti.sandbox.environment import SimEnvironment
from tests.concurrency.procs import audit, explain, together
from tests.helpers.keys import new_ssh_key

CREATES = 4


def create_args(*extra: str) -> list[str]:
    return ["vm", "create", "rocky9", "--ssh-key", new_ssh_key("ops@example"),
            "--address-wait", "0", "--json", *extra]  # fmt: skip


def vms(world: SimEnvironment) -> dict[int, str]:
    return {vmid: g.conf.get("name", "") for vmid, g in world.pve.state.guests.items()
            if not g.is_template}  # fmt: skip


def test_parallel_creates_each_make_their_own_vm(env: dict[str, str], world: SimEnvironment):
    ran = together(env, [create_args() for _ in range(CREATES)])
    assert all(r.code == 0 and not r.traceback for r in ran), explain(ran)
    made = [json.loads(r.out)["vm"] for r in ran]
    assert len({vm["vmid"] for vm in made}) == CREATES
    assert len({vm["name"] for vm in made}) == CREATES, [vm["name"] for vm in made]
    on_cluster = vms(world)
    assert len(on_cluster) == CREATES
    assert len(set(on_cluster.values())) == CREATES, on_cluster
    finished = audit(env["SOLTI_DB"], "SELECT vmid FROM audit WHERE action = 'vm create' "
                                      "AND result = 'ok'")  # fmt: skip
    assert sorted(v for (v,) in finished) == sorted(on_cluster)
    assert audit(env["SOLTI_DB"], "SELECT id FROM audit WHERE result = 'running'") == []


def test_two_count_creates_at_once_never_share_a_name(env: dict[str, str], world: SimEnvironment):
    """Two sets planned at the same moment pick the same names; one set is built, the other is
    refused with a sentence (a default ``--count`` set never renames one of its VMs)."""
    ran = together(env, [create_args("--count", "2"), create_args("--count", "2")])
    assert all(not r.traceback for r in ran), explain(ran)
    made = [r for r in ran if r.code == 0]
    assert made, explain(ran)
    assert all("name:" in r.err for r in ran if r.code != 0), explain(ran)
    on_cluster = vms(world)
    assert len(on_cluster) == 2 * len(made)
    assert len(set(on_cluster.values())) == len(on_cluster), on_cluster


def test_one_request_id_twice_at_once_makes_one_vm(env: dict[str, str], world: SimEnvironment):
    """A retry from cron while the first run is still at work: one VM; the other run answers
    with the first's VM or says the request is still running."""
    ran = together(env, [create_args("--request-id", "nightly-1")] * 2)
    assert all(not r.traceback for r in ran), explain(ran)
    assert len(vms(world)) == 1, vms(world)
    assert all(r.code == 0 or "still running" in r.err for r in ran), explain(ran)
    rows = audit(env["SOLTI_DB"], "SELECT result FROM audit WHERE action = 'vm create'")
    assert sorted(rows) == [("ok",)], rows


def test_two_removes_of_one_vm_at_once(env: dict[str, str], world: SimEnvironment):
    """Two operators remove the same VM: it is gone, each run ends with a result or a
    sentence, never a traceback, and no record is left ``running``. (When both destroys are
    accepted, the second's task fails in its worker, on the simulator as on PVE:
    ``destroy_vm`` loads the config again under the lock.)"""
    made = together(env, [create_args()])
    vmid = str(json.loads(made[0].out)["vm"]["vmid"])
    ran = together(env, [["vm", "remove", vmid, "--yes"]] * 2)
    assert all(not r.traceback for r in ran), explain(ran)
    assert any(r.code == 0 for r in ran), explain(ran)
    assert vms(world) == {}
    rows = audit(env["SOLTI_DB"], "SELECT result FROM audit WHERE action = 'vm remove'")
    assert "ok" in {r for (r,) in rows} and "running" not in {r for (r,) in rows}, rows
