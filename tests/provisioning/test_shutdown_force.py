"""Shutdown with a fallback: a guest that ignores ACPI fails the shutdown, unless forced."""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.errors import InvalidRequest, TaskFailed
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


@pytest.fixture
def running(world: SimEnvironment) -> int:
    world.pve.state.rrd_lag = 0
    world.pve.state.add_vm(500, "web", running=True, ciuser="rocky")
    return 500


def _shutdowns(world: SimEnvironment) -> list[Any]:
    return [r for r in world.pve.requests if r.path.endswith("/status/shutdown")]


def _is_running(world: SimEnvironment, vmid: int) -> bool:
    with world.pve.state.mutex:
        return world.pve.state.guests[vmid].running


def test_guest_ignoring_acpi_fails_without_force(
    provisioner: Provisioner, world: SimEnvironment, running: int
) -> None:
    world.pve.faults.ignore_acpi(running)
    with pytest.raises(TaskFailed) as caught:
        provisioner.shutdown_vm(running, timeout=0, actor="bob")
    text = str(caught.value)
    assert "did not shut down within 0 s" in text and "got timeout" in text
    assert "--force" in text
    assert _is_running(world, running)
    [call] = _shutdowns(world)
    assert call.params == {"timeout": "0"}  # no forceStop on the wire
    record = provisioner.audit.query(action="vm shutdown")[0]
    assert record.result == "failed" and "VM quit/powerdown failed - got timeout" in record.error
    assert record.params == {"timeout": 0, "force": False}
    # Slack has no --force: there the way out is `vm stop`.
    with pytest.raises(TaskFailed) as caught:
        provisioner.shutdown_vm(running, timeout=0, actor="bob", via="slack")
    assert "--force" not in str(caught.value) and f"`vm stop {running}`" in str(caught.value)


def test_force_stops_a_guest_that_ignores_acpi(
    provisioner: Provisioner, world: SimEnvironment, running: int
) -> None:
    world.pve.faults.ignore_acpi(running)
    info = provisioner.shutdown_vm(running, timeout=0, force=True, actor="bob")
    assert info.status == "stopped"
    assert info.note == "the guest did not shut down within 0 s; it was stopped"
    assert not _is_running(world, running)
    [call] = _shutdowns(world)
    assert call.params == {"timeout": "0", "forceStop": "1"}
    record = provisioner.audit.query(action="vm shutdown")[0]
    assert record.result == "ok"
    assert record.params == {"timeout": 0, "force": True, "note": info.note}


def test_force_on_a_guest_that_shuts_down_is_a_plain_shutdown(
    provisioner: Provisioner, world: SimEnvironment, running: int
) -> None:
    info = provisioner.shutdown_vm(running, timeout=30, force=True, actor="bob")
    assert info.status == "stopped" and info.note is None
    assert not _is_running(world, running)
    assert provisioner.audit.query(action="vm shutdown")[0].params == {
        "timeout": 30,
        "force": True,
    }


def test_negative_timeout_is_refused_before_any_call(
    provisioner: Provisioner, world: SimEnvironment, running: int
) -> None:
    before = len(world.pve.requests)
    with pytest.raises(InvalidRequest) as caught:
        provisioner.shutdown_vm(running, timeout=-1)
    assert caught.value.field == "timeout"
    assert len(world.pve.requests) == before
