"""What ``status/current`` and the node's VM list carry, as qemu-server builds them.

Read-only clients decide from these what to ask next (the agent's addresses, a VM's config).
"""

from __future__ import annotations

from typing import Any

import pytest

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE


@pytest.mark.parametrize(
    ("agent", "running", "expected"),
    [
        ("1", True, 1),
        ("enabled=1,fstrim_cloned_disks=1", True, 1),
        ("1", False, 1),
        ("0", True, None),
        ("enabled=0,type=virtio", True, None),
        (None, True, None),
    ],
)
def test_status_says_agent_when_the_config_enables_it(
    pve: PveSimulator, api: Any, agent: str | None, running: bool, expected: int | None
) -> None:
    """qemu-server ``src/PVE/API2/Qemu.pm`` ``vm_status``: ``$status->{agent} = 1 if
    get_qga_key($conf, 'enabled')``, from the config alone (running or not)."""
    guest = pve.state.add_vm(100, running=running)
    if agent is None:
        guest.conf.pop("agent")
    else:
        guest.conf["agent"] = agent
    status = api.nodes(NODE).qemu(100).status.current.get()
    assert status.get("agent") == expected
    assert status["status"] == ("running" if running else "stopped")


def test_the_vm_list_names_the_pid_of_running_vms_and_no_block_stats(
    pve: PveSimulator, api: Any
) -> None:
    """``vmlist`` returns ``QemuServer.pm`` ``vmstatus(undef, $full)``: ``pid`` of each
    running VM and ``memhost`` always; ``diskread``/``diskwrite`` come from QMP's
    ``query-blockstats`` and ``qmpstatus`` from ``query-status``, asked only with ``full``."""
    pve.state.add_vm(100, running=True)
    pve.state.add_vm(101)
    rows = {r["vmid"]: r for r in api.nodes(NODE).qemu.get()}
    assert rows[100]["pid"] == api.nodes(NODE).qemu(100).status.current.get()["pid"]
    assert "pid" not in rows[101]
    assert (rows[100]["memhost"], rows[101]["memhost"]) == (2048 * 1024**2, 0)
    assert not {"diskread", "diskwrite", "qmpstatus"} & (set(rows[100]) | set(rows[101]))
    full = {r["vmid"]: r for r in api.nodes(NODE).qemu.get(full=1)}
    assert (full[100]["qmpstatus"], full[101]["qmpstatus"]) == ("running", "stopped")
    assert "diskread" in full[100]
    assert "diskread" not in full[101]


def test_the_vm_list_leaves_out_vms_the_token_may_not_audit(pve: PveSimulator, api: Any) -> None:
    """``vmlist``: ``next if !$rpcenv->check($authuser, "/vms/$vmid", ['VM.Audit'], 1)``; the
    list is shorter, not refused."""
    pve.state.add_vm(100)
    pve.state.add_vm(101)
    pve.state.set_token_privileges("/", {"Sys.Audit": 1})
    assert api.nodes(NODE).qemu.get() == []
    pve.state.set_token_privileges("/vms/101", {"VM.Audit": 1})
    assert [r["vmid"] for r in api.nodes(NODE).qemu.get()] == [101]
