"""The guest agent boots after the VM starts; shutdown waits for its timeout, forceStop kills.

Time is the simulator's: the clock is frozen and advanced, so nothing here sleeps for a boot
or a shutdown timeout.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from proxmoxer import ResourceException

from solti.sandbox.pve.faults import DEFAULT_AGENT_BOOT
from tests.sim.conftest import NODE, wait_task

AGENT = "network-get-interfaces"


def _control(pve: Any, payload: Any) -> requests.Response:
    return requests.post(f"{pve.url}/_sim/faults", json=payload, verify=pve.ca_path, timeout=5)


def _agent_error(vm: Any) -> str:
    with pytest.raises(ResourceException) as info:
        vm.agent(AGENT).get()
    assert info.value.status_code == 500
    return str(info.value.content)


def _started(pve: Any, api: Any, vmid: int = 100, **conf: Any) -> Any:
    pve.state.add_vm(vmid, **conf)
    pve.clock.freeze()
    vm = api.nodes(NODE).qemu(vmid)
    upid = vm.status.start.post()
    pve.advance(1)  # the start task (0.1 s) is over; the guest is booting
    assert api.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"
    return vm


def test_agent_not_running_while_the_guest_boots_then_answers(pve, api):
    vm = _started(pve, api, net0="virtio=BC:24:11:AA:BB:CC,bridge=vmbr0")
    assert _agent_error(vm) == "QEMU guest agent is not running"
    pve.advance(DEFAULT_AGENT_BOOT)
    result = vm.agent(AGENT).get()["result"]
    names = [i["name"] for i in result]
    assert names == ["lo", "eth0"]
    eth0 = result[1]
    assert eth0["hardware-address"] == "bc:24:11:aa:bb:cc"
    addresses = {a["ip-address"] for a in eth0["ip-addresses"]}
    assert "10.0.0.102" in addresses  # the fake DHCP lease of VMID 100
    assert "fe80::be24:11ff:feaa:bbcc" in addresses  # EUI-64 link-local from the MAC


def test_static_ipconfig_is_what_the_agent_reports(pve, api):
    vm = _started(pve, api, ipconfig0="ip=192.0.2.7/24,gw=192.0.2.1")
    pve.advance(DEFAULT_AGENT_BOOT)
    eth0 = vm.agent(AGENT).get()["result"][1]
    assert {"ip-address-type": "ipv4", "ip-address": "192.0.2.7", "prefix": 24} in eth0[
        "ip-addresses"
    ]


def test_agent_errors_in_pve_order(pve, api):
    """qemu-server ``QemuServer/Agent.pm`` ``assert_agent_available``: only a config without
    the ``agent`` key is "not configured"; ``agent: 0`` answers like an agent that is not up
    (running) or "VM N is not running" (stopped). Issue 11, point 5."""
    pve.state.add_vm(100, agent="0", running=True)
    pve.state.add_vm(101, agent="enabled=0,fstrim_cloned_disks=1")  # off and stopped
    pve.state.add_vm(102)  # agent on, stopped
    pve.state.add_vm(103, running=True)
    api.nodes(NODE).qemu(103).config.put(delete="agent")
    assert _agent_error(api.nodes(NODE).qemu(100)) == "QEMU guest agent is not running"
    assert _agent_error(api.nodes(NODE).qemu(101)) == "VM 101 is not running"
    assert _agent_error(api.nodes(NODE).qemu(102)) == "VM 102 is not running"
    assert _agent_error(api.nodes(NODE).qemu(103)) == "No QEMU guest agent configured"


def test_seeded_running_vm_has_booted(pve, api):
    pve.state.add_vm(100, running=True)
    assert api.nodes(NODE).qemu(100).agent(AGENT).get()["result"][0]["name"] == "lo"


def test_agent_boot_per_vm_and_never_through_sim_faults(pve, api):
    assert _control(pve, {"kind": "agent_boot", "seconds": 30, "vmid": 100}).status_code == 200
    assert _control(pve, {"kind": "agent_boot", "seconds": None, "vmid": 101}).status_code == 200
    vm = _started(pve, api, 100)
    never = _started(pve, api, 101)
    default = _started(pve, api, 102)
    pve.advance(DEFAULT_AGENT_BOOT)
    assert default.agent(AGENT).get()["result"]
    assert _agent_error(vm) == "QEMU guest agent is not running"  # 30 s for VM 100
    pve.advance(30)
    assert vm.agent(AGENT).get()["result"]
    pve.advance(3600)
    assert _agent_error(never) == "QEMU guest agent is not running"
    bad = _control(pve, {"kind": "agent_boot", "secs": 3})
    assert bad.status_code == 400 and "secs" in bad.json()["error"]


def test_clear_resets_agent_boot_and_acpi(pve, api):
    pve.faults.agent_boot(None)
    pve.faults.ignore_acpi()
    pve.faults.clear()
    vm = _started(pve, api)
    pve.advance(DEFAULT_AGENT_BOOT)
    assert vm.agent(AGENT).get()["result"]
    upid = vm.status.shutdown.post()
    pve.advance(1)
    assert api.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"


def _status(api: Any, upid: str) -> dict[str, Any]:
    return api.nodes(NODE).tasks(upid).status.get()


def test_guest_ignoring_acpi_fails_the_shutdown_at_its_timeout(pve, api):
    vm = _started(pve, api)
    assert _control(pve, {"kind": "ignore_acpi", "vmid": 100}).status_code == 200
    upid = vm.status.shutdown.post(timeout=20)
    pve.advance(19)
    assert _status(api, upid)["status"] == "running"
    pve.advance(2)
    status = _status(api, upid)
    assert status["exitstatus"] == "VM quit/powerdown failed - got timeout"
    assert vm.status.current.get()["status"] == "running"
    log = [line["t"] for line in api.nodes(NODE).tasks(upid).log.get()]
    assert log[-1] == "TASK ERROR: VM quit/powerdown failed - got timeout"


def test_force_stop_kills_a_guest_that_ignores_acpi(pve, api):
    vm = _started(pve, api)
    pve.faults.ignore_acpi(100)
    upid = vm.status.shutdown.post(timeout=20, forceStop=1)
    pve.advance(21)
    status = _status(api, upid)
    # qemu-server ``_do_vm_stop`` uses a plain ``warn``; pve-common ``RESTEnvironment.pm``
    # counts only ``log_warn``, so the task ends OK and the log alone tells (issue 11, 3).
    assert status["exitstatus"] == "OK"
    log = [line["t"] for line in api.nodes(NODE).tasks(upid).log.get()]
    assert log == ["VM still running - terminating now with SIGTERM", "TASK OK"]
    assert vm.status.current.get()["status"] == "stopped"


def test_default_timeout_is_sixty_seconds(pve, api):
    vm = _started(pve, api)
    pve.faults.ignore_acpi()
    upid = vm.status.shutdown.post()
    pve.advance(59)
    assert _status(api, upid)["status"] == "running"
    pve.advance(2)
    assert _status(api, upid)["exitstatus"] == "VM quit/powerdown failed - got timeout"


def test_slow_guest_within_or_beyond_the_timeout(pve, api):
    vm = _started(pve, api)
    pve.faults.task_duration("qmshutdown", 30)
    upid = vm.status.shutdown.post(timeout=10)
    pve.advance(11)
    assert _status(api, upid)["exitstatus"] == "VM quit/powerdown failed - got timeout"
    upid = vm.status.shutdown.post(timeout=40)
    pve.advance(31)
    assert _status(api, upid)["exitstatus"] == "OK"
    assert vm.status.current.get()["status"] == "stopped"


def test_force_stop_with_timeout_zero_and_of_a_stopped_vm(pve, api):
    vm = _started(pve, api)
    pve.clock.unfreeze()
    pve.faults.ignore_acpi()
    status = wait_task(api, vm.status.shutdown.post(timeout=0, forceStop=1))
    assert status["exitstatus"] == "OK"
    log = [line["t"] for line in api.nodes(NODE).tasks(status["upid"]).log.get()]
    assert log[0] == "VM still running - terminating now with SIGTERM"
    # Already stopped: a no-op, OK without warnings, forced or not.
    assert wait_task(api, vm.status.shutdown.post(forceStop=1))["exitstatus"] == "OK"
