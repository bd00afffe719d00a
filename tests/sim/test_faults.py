"""Fault injection: each kind, in process and through /_sim/faults."""

from __future__ import annotations

import pytest
import requests
from proxmoxer import ResourceException

from tests.sim.conftest import NODE, wait_task


def test_latency_delays_matching_requests_only(sim):
    sim.faults.latency(3, method="GET", path="/cluster/*")
    slow = sim.client(timeout=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        slow.cluster.resources.get()
    assert slow.version.get()["release"] == "9.1"


def test_http_errors_count_and_reason(sim, pve):
    sim.faults.http_errors(2, status=503, method="POST", path="/nodes/*/qemu")
    for _ in range(2):
        with pytest.raises(ResourceException) as info:
            pve.nodes(NODE).qemu.post(vmid=100, scsi0="local-lvm:1")
        assert info.value.status_code == 503
        assert info.value.content == "Service Unavailable (simulated fault)"
    assert pve.cluster.resources.get(type="vm") == []
    assert pve.nodes(NODE).qemu.post(vmid=100, scsi0="local-lvm:1").startswith("UPID:")
    assert [r.status for r in sim.requests if r.method == "POST"] == [503, 503, 200]


def test_dropped_connection(sim, pve):
    sim.faults.drop_connections(1, path="/nodes")
    with pytest.raises(requests.exceptions.ConnectionError):
        pve.nodes.get()
    assert pve.nodes.get()[0]["node"] == NODE


def test_task_duration_with_manual_clock(sim, pve):
    sim.state.add_vm(100)
    sim.clock.freeze()
    sim.faults.task_duration("qmstart", 30)
    upid = pve.nodes(NODE).qemu(100).status.start.post()
    assert pve.nodes(NODE).tasks(upid).status.get()["status"] == "running"
    assert "exitstatus" not in pve.nodes(NODE).tasks(upid).status.get()
    sim.advance(29)
    assert pve.nodes(NODE).tasks(upid).status.get()["status"] == "running"
    sim.advance(2)
    assert pve.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"


def test_fail_next_task_once(sim, pve):
    sim.state.add_vm(100)
    sim.faults.fail_next_task("qmstart", "start failed: QEMU exited with code 1")
    status = wait_task(pve, pve.nodes(NODE).qemu(100).status.start.post())
    assert status["exitstatus"] == "start failed: QEMU exited with code 1"
    log = pve.nodes(NODE).tasks(status["upid"]).log.get()
    assert log[-1]["t"] == "TASK ERROR: start failed: QEMU exited with code 1"
    assert pve.nodes(NODE).qemu(100).status.current.get()["status"] == "stopped"
    assert wait_task(pve, pve.nodes(NODE).qemu(100).status.start.post())["exitstatus"] == "OK"


def test_hold_lock_expires(sim, pve):
    sim.state.add_vm(100)
    sim.clock.freeze()
    sim.faults.hold_lock(100, "backup", 10)
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(100).config.put(name="x")
    assert info.value.content == "VM is locked (backup)"
    assert pve.nodes(NODE).qemu(100).status.current.get()["lock"] == "backup"
    sim.advance(11)
    pve.nodes(NODE).qemu(100).config.put(name="x")
    assert pve.nodes(NODE).qemu(100).config.get()["name"] == "x"


def test_control_plane_over_http(sim, pve):
    def control(method: str, path: str, **kw):
        response = requests.request(
            method, f"{sim.url}/_sim/{path}", verify=sim.ca_path, timeout=5, **kw
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    control("POST", "faults", json={"kind": "http_errors", "count": 1, "path": "/version"})
    with pytest.raises(ResourceException):
        pve.version.get()
    pve.version.get()
    records = control("GET", "requests")
    assert [r["status"] for r in records] == [500, 200]
    assert all(not r["path"].startswith("/_sim") for r in records)
    control("POST", "reset")
    assert control("GET", "requests") == []


def test_unknown_fault_kind_is_rejected(sim):
    response = requests.post(
        f"{sim.url}/_sim/faults", json={"kind": "meteor"}, verify=sim.ca_path, timeout=5
    )
    assert response.status_code == 400
    assert "unknown fault kind" in response.json()["error"]


def test_clear_and_reset_disarm_faults(sim, pve):
    sim.faults.http_errors(5, path="/version")
    sim.faults.clear()
    assert pve.version.get()["release"] == "9.1"
    sim.faults.http_errors(5, path="/version")
    sim.state.add_vm(100)
    sim.reset()
    assert pve.version.get()["release"] == "9.1"
    assert pve.cluster.resources.get(type="vm") == []
