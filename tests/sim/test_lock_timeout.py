"""Config lock timeouts: pve-guest-common ``src/PVE/AbstractConfig.pm`` ``lock_config`` waits
10 s for the config file's flock; pve-common ``src/PVE/Tools.pm`` ``lock_file_full`` then dies
"can't lock file '/var/lock/qemu-server/lock-N.conf' - got timeout" (issue 11, point 6).
qemu-server ``$update_vm_api`` takes the lock in the request for PUT, in the worker for POST.
"""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok, wait_task

TIMEOUT = "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"


def test_a_sync_config_write_fails_while_the_lock_is_held_over_ten_seconds(
    pve: PveSimulator, api: Any
) -> None:
    pve.state.add_vm(100)
    pve.faults.hold_file_lock(100, 60)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(100).config.put(name="renamed")
    assert (info.value.status_code, info.value.content) == (500, TIMEOUT)
    assert pve.state.vm_config(100)["name"] == "vm100"


def test_an_async_config_write_fails_in_its_task(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100)
    pve.faults.apply({"kind": "hold_file_lock", "vmid": 100, "seconds": 60})
    status = wait_task(api, api.nodes(NODE).qemu(100).config.post(name="renamed"))
    assert status["exitstatus"] == TIMEOUT
    assert pve.state.vm_config(100)["name"] == "vm100"


def test_a_lock_released_within_ten_seconds_is_waited_for(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100)
    pve.faults.hold_file_lock(100, 5)
    api.nodes(NODE).qemu(100).config.put(name="renamed")
    run_ok(api, api.nodes(NODE).qemu(100).status.start.post())
    assert pve.state.vm_config(100)["name"] == "renamed"


def test_power_tasks_fail_on_the_lock_too(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100)
    pve.faults.hold_file_lock(100, 60)
    status = wait_task(api, api.nodes(NODE).qemu(100).status.start.post())
    assert status["exitstatus"] == TIMEOUT
