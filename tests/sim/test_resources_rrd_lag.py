"""pve-semantics §10: a VM made seconds ago is in /cluster/resources, but bare, for ~10 s."""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import create_vm, run_ok

BARE_KEYS = {"id", "type", "vmid", "node", "status"}


def _frozen(pve: PveSimulator) -> None:
    """Manual time; tasks end at once so only ``pve.advance`` moves the RRD clock."""
    pve.clock.freeze()
    for task_type in ("qmcreate", "qmtemplate"):
        pve.faults.task_duration(task_type, 0)


def _row(api: Any, vmid: int) -> dict[str, Any]:
    rows = [r for r in api.cluster.resources.get(type="vm") if r["vmid"] == vmid]
    assert len(rows) == 1, rows
    return rows[0]


def test_new_vm_is_listed_bare_until_the_rrd_cache_knows_it(pve: PveSimulator, api: Any) -> None:
    _frozen(pve)
    create_vm(api, 501, name="fresh", tags="Web;solti")
    row = _row(api, 501)
    assert set(row) == BARE_KEYS | {"tags"}
    assert row["status"] == "unknown" and row["tags"] == "solti;web"
    assert row["id"] == "qemu/501" and row["node"] == "pve"
    # The per-node list and the config are live: the name is there at once.
    assert [v["name"] for v in api.nodes("pve").qemu.get()] == ["fresh"]
    pve.advance(9.5)
    assert "name" not in _row(api, 501)
    pve.advance(0.5)
    row = _row(api, 501)
    assert row["name"] == "fresh" and row["template"] == 0 and row["status"] == "stopped"
    assert row["maxdisk"] > 0 and row["maxmem"] > 0


def test_a_converted_template_right_after_create_has_no_flag_but_its_tags(
    pve: PveSimulator, api: Any
) -> None:
    _frozen(pve)
    create_vm(api, 9000, name="rocky9-template", tags="template")
    run_ok(api, api.nodes("pve").qemu(9000).template.post())
    row = _row(api, 9000)
    assert "template" not in row and "name" not in row and row["tags"] == "template"
    pve.advance(10)
    assert _row(api, 9000)["template"] == 1


def test_a_clone_is_bare_too_and_shows_its_lock(pve: PveSimulator, api: Any) -> None:
    pve.clock.freeze()
    pve.state.add_template(9000, "base")
    pve.faults.task_duration("qmclone", 5)
    api.nodes("pve").qemu(9000).clone.post(newid=600, name="copy")
    row = _row(api, 600)
    assert row["status"] == "unknown" and row["lock"] == "clone" and "name" not in row
    assert _row(api, 9000)["name"] == "base"  # seeded VMs are long known


def test_the_lag_can_be_turned_off(pve: PveSimulator, api: Any) -> None:
    pve.state.rrd_lag = 0
    create_vm(api, 502, name="at-once")
    assert _row(api, 502)["name"] == "at-once"
    pve.reset()
    assert pve.state.rrd_lag == 10  # reset brings back real PVE's behaviour
