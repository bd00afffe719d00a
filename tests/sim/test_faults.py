"""Fault injection: each kind, in process and through /_sim/faults."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from proxmoxer import ResourceException

from tests.sim.conftest import NODE, wait_task


def test_latency_delays_matching_requests_only(pve):
    pve.faults.latency(3, method="GET", path="/cluster/*")
    slow = pve.client(timeout=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        slow.cluster.resources.get()
    assert slow.version.get()["release"] == "9.1"


def test_http_errors_count_and_reason(pve, api):
    pve.faults.http_errors(2, status=503, method="POST", path="/nodes/*/qemu")
    for _ in range(2):
        with pytest.raises(ResourceException) as info:
            api.nodes(NODE).qemu.post(vmid=100, scsi0="local-lvm:1")
        assert info.value.status_code == 503
        assert info.value.content == "Service Unavailable (simulated fault)"
    assert api.cluster.resources.get(type="vm") == []
    assert api.nodes(NODE).qemu.post(vmid=100, scsi0="local-lvm:1").startswith("UPID:")
    assert [r.status for r in pve.requests if r.method == "POST"] == [503, 503, 200]


def test_dropped_connection(pve, api):
    pve.faults.drop_connections(1, path="/nodes")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.nodes.get()
    assert api.nodes.get()[0]["node"] == NODE


def test_task_duration_with_manual_clock(pve, api):
    pve.state.add_vm(100)
    pve.clock.freeze()
    pve.faults.task_duration("qmstart", 30)
    upid = api.nodes(NODE).qemu(100).status.start.post()
    assert api.nodes(NODE).tasks(upid).status.get()["status"] == "running"
    assert "exitstatus" not in api.nodes(NODE).tasks(upid).status.get()
    pve.advance(29)
    assert api.nodes(NODE).tasks(upid).status.get()["status"] == "running"
    pve.advance(2)
    assert api.nodes(NODE).tasks(upid).status.get()["exitstatus"] == "OK"


def test_fail_next_task_once(pve, api):
    pve.state.add_vm(100)
    pve.faults.fail_next_task("qmstart", "start failed: QEMU exited with code 1")
    status = wait_task(api, api.nodes(NODE).qemu(100).status.start.post())
    assert status["exitstatus"] == "start failed: QEMU exited with code 1"
    log = api.nodes(NODE).tasks(status["upid"]).log.get()
    assert log[-1]["t"] == "TASK ERROR: start failed: QEMU exited with code 1"
    assert api.nodes(NODE).qemu(100).status.current.get()["status"] == "stopped"
    assert wait_task(api, api.nodes(NODE).qemu(100).status.start.post())["exitstatus"] == "OK"


def test_hold_lock_expires(pve, api):
    pve.state.add_vm(100)
    pve.clock.freeze()
    pve.faults.hold_lock(100, "backup", 10)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(100).config.put(name="x")
    assert info.value.content == "VM is locked (backup)"
    assert api.nodes(NODE).qemu(100).status.current.get()["lock"] == "backup"
    pve.advance(11)
    api.nodes(NODE).qemu(100).config.put(name="x")
    assert api.nodes(NODE).qemu(100).config.get()["name"] == "x"


def test_control_plane_over_http(pve, api):
    def control(method: str, path: str, **kw):
        response = requests.request(
            method, f"{pve.url}/_sim/{path}", verify=pve.ca_path, timeout=5, **kw
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    control("POST", "faults", json={"kind": "http_errors", "count": 1, "path": "/version"})
    with pytest.raises(ResourceException):
        api.version.get()
    api.version.get()
    records = control("GET", "requests")
    assert [r["status"] for r in records] == [500, 200]
    assert all(not r["path"].startswith("/_sim") for r in records)
    control("POST", "reset")
    assert control("GET", "requests") == []


def test_unknown_fault_kind_is_rejected(pve):
    response = requests.post(
        f"{pve.url}/_sim/faults", json={"kind": "meteor"}, verify=pve.ca_path, timeout=5
    )
    assert response.status_code == 400
    assert "unknown fault kind" in response.json()["error"]


def test_clear_and_reset_disarm_faults(pve, api):
    pve.faults.http_errors(5, path="/version")
    pve.faults.clear()
    assert api.version.get()["release"] == "9.1"
    pve.faults.http_errors(5, path="/version")
    pve.state.add_vm(100)
    pve.reset()
    assert api.version.get()["release"] == "9.1"
    assert api.cluster.resources.get(type="vm") == []


def test_a_request_delayed_across_a_reset_never_lands_in_the_new_world(pve, api):
    """A write held by a latency fault while the test resets the simulator (the next test's
    world) is dropped, not applied there: a kill test's in-flight config write once changed
    the next test's VM (its MAC) seconds after that test had started."""
    pve.state.add_vm(100, "old")
    pve.faults.latency(1.0, method="PUT", path="*/qemu/100/config")
    outcome: list[object] = []

    def write() -> None:
        try:
            api.nodes("pve").qemu(100).config.put(description="from the old world")
            outcome.append("applied")
        except Exception as exc:  # the connection is closed without an answer
            outcome.append(type(exc).__name__)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.2)  # the write is inside its delay
    pve.reset()
    pve.state.add_vm(100, "new")
    writer.join(10)
    assert outcome and outcome[0] != "applied"
    assert "description" not in pve.state.guests[100].conf
