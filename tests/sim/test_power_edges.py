"""Stop and shutdown where qemu-server's order of checks decides the outcome.

qemu-server ``src/PVE/QemuServer.pm`` ``_do_vm_stop``: ``check_running`` comes first (it dies
when the config is missing, and returns early for a stopped VM), ``check_lock`` only after;
``src/PVE/API2/Qemu.pm`` ``vm_shutdown`` forks its worker without loading the config.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok, wait_task


def test_a_stopped_vm_holding_a_lock_stops_and_shuts_down_ok(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100)
    pve.faults.hold_lock(100, "backup", 3600)
    run_ok(api, api.nodes(NODE).qemu(100).status.stop.post())
    run_ok(api, api.nodes(NODE).qemu(100).status.shutdown.post())


def test_a_running_vm_holding_a_lock_is_refused_in_the_task(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, running=True)
    pve.faults.hold_lock(100, "backup", 3600)
    status = wait_task(api, api.nodes(NODE).qemu(100).status.stop.post())
    assert status["exitstatus"] == "VM is locked (backup)"


def test_shutdown_of_a_missing_vm_answers_a_upid_and_the_task_fails(api: Any) -> None:
    upid = api.nodes(NODE).qemu(404).status.shutdown.post()
    status = wait_task(api, upid)
    assert status["exitstatus"] == "unable to find configuration file for VM 404 on node 'pve'"
