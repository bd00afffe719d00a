"""pve-semantics §10: a VM made seconds ago is in /cluster/resources, but bare, for ~10 s."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import create_vm, run_ok

BARE_KEYS = {"id", "type", "vmid", "node", "status"}


def _frozen(sim: PveSimulator) -> None:
    """Manual time; tasks end at once so only ``sim.advance`` moves the RRD clock."""
    sim.clock.freeze()
    for task_type in ("qmcreate", "qmtemplate"):
        sim.faults.task_duration(task_type, 0)


def _row(pve: Any, vmid: int) -> dict[str, Any]:
    rows = [r for r in pve.cluster.resources.get(type="vm") if r["vmid"] == vmid]
    assert len(rows) == 1, rows
    return rows[0]


def test_new_vm_is_listed_bare_until_the_rrd_cache_knows_it(sim: PveSimulator, pve: Any) -> None:
    _frozen(sim)
    create_vm(pve, 501, name="fresh", tags="Web;solti")
    row = _row(pve, 501)
    assert set(row) == BARE_KEYS | {"tags"}
    assert row["status"] == "unknown" and row["tags"] == "solti;web"
    assert row["id"] == "qemu/501" and row["node"] == "pve"
    # The per-node list and the config are live: the name is there at once.
    assert [v["name"] for v in pve.nodes("pve").qemu.get()] == ["fresh"]
    sim.advance(9.5)
    assert "name" not in _row(pve, 501)
    sim.advance(0.5)
    row = _row(pve, 501)
    assert row["name"] == "fresh" and row["template"] == 0 and row["status"] == "stopped"
    assert row["maxdisk"] > 0 and row["maxmem"] > 0


def test_a_converted_template_right_after_create_has_no_flag_but_its_tags(
    sim: PveSimulator, pve: Any
) -> None:
    _frozen(sim)
    create_vm(pve, 9000, name="rocky9-template", tags="template")
    run_ok(pve, pve.nodes("pve").qemu(9000).template.post())
    row = _row(pve, 9000)
    assert "template" not in row and "name" not in row and row["tags"] == "template"
    sim.advance(10)
    assert _row(pve, 9000)["template"] == 1


def test_a_clone_is_bare_too_and_shows_its_lock(sim: PveSimulator, pve: Any) -> None:
    sim.clock.freeze()
    sim.state.add_template(9000, "base")
    sim.faults.task_duration("qmclone", 5)
    pve.nodes("pve").qemu(9000).clone.post(newid=600, name="copy")
    row = _row(pve, 600)
    assert row["status"] == "unknown" and row["lock"] == "clone" and "name" not in row
    assert _row(pve, 9000)["name"] == "base"  # seeded VMs are long known


def test_the_lag_can_be_turned_off(sim: PveSimulator, pve: Any) -> None:
    sim.state.rrd_lag = 0
    create_vm(pve, 502, name="at-once")
    assert _row(pve, 502)["name"] == "at-once"
    sim.reset()
    assert sim.state.rrd_lag == 10  # reset brings back real PVE's behaviour
