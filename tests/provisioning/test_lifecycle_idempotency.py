"""The same request id never runs a destructive verb twice (Slack retries, double clicks)."""

from __future__ import annotations

import pytest

from solti.provisioning.errors import Conflict, TaskFailed
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


@pytest.fixture
def vmid(provisioner: Provisioner, world: SimEnvironment, ssh_key: str) -> int:
    world.pve.state.add_template(9000, "rocky9-template", tags=["solti", "template", "rocky9"])
    world.pve.state.rrd_lag = 0  # these tests are about request ids, not the RRD cache
    return provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}).vm.vmid


def _posts(world: SimEnvironment, suffix: str) -> int:
    return sum(1 for r in world.pve.requests if r.path.endswith(suffix))


def _power(world: SimEnvironment, vmid: int, running: bool) -> None:
    with world.pve.state.mutex:
        world.pve.state.guests[vmid].running = running


@pytest.mark.parametrize(
    ("verb", "suffix", "state_before", "outcome"),
    [
        ("stop_vm", "/status/stop", True, "stopped"),
        ("shutdown_vm", "/status/shutdown", True, "stopped"),
        ("start_vm", "/status/start", False, "running"),
    ],
)
def test_power_verb_runs_once_per_request_id(
    provisioner: Provisioner,
    world: SimEnvironment,
    vmid: int,
    verb: str,
    suffix: str,
    state_before: bool,
    outcome: str,
) -> None:
    _power(world, vmid, state_before)
    base = _posts(world, suffix)  # the create itself started the VM
    first = getattr(provisioner, verb)(vmid, actor="alice", request_id="slack-1")
    assert first.status == outcome and _posts(world, suffix) == base + 1
    _power(world, vmid, state_before)  # someone changed it since: the retry must not act on it
    again = getattr(provisioner, verb)(vmid, actor="alice", request_id="slack-1")
    assert again.status == outcome and again.vmid == vmid and again.name == first.name
    assert _posts(world, suffix) == base + 1
    assert world.pve.state.guests[vmid].running is state_before
    records = [r for r in provisioner.audit.query(vmid=vmid) if r.request_id == "slack-1"]
    assert len(records) == 1 and records[0].result == "ok"
    # Without a request id (or with another one) the verb runs again.
    getattr(provisioner, verb)(vmid, actor="alice", request_id="slack-2")
    assert _posts(world, suffix) == base + 2


def test_remove_twice_with_one_request_id_is_one_remove(
    provisioner: Provisioner, world: SimEnvironment, vmid: int
) -> None:
    provisioner.remove_vm(vmid, actor="alice", request_id="rm-1")
    deletes = _posts(world, f"/qemu/{vmid}")
    again = provisioner.remove_vm(vmid, actor="alice", request_id="rm-1")  # no NotFound
    assert again.status == "removed" and _posts(world, f"/qemu/{vmid}") == deletes
    assert vmid not in world.pve.state.guests


def test_a_repeat_while_running_is_refused(provisioner: Provisioner, vmid: int) -> None:
    provisioner.audit.start(
        action="vm remove", actor="alice", via="slack", vmid=vmid, request_id="rm-2"
    )
    with pytest.raises(Conflict, match=r"rm-2.*still running"):
        provisioner.remove_vm(vmid, actor="alice", request_id="rm-2")


def test_a_failed_attempt_may_be_retried_with_the_same_id(
    provisioner: Provisioner, world: SimEnvironment, vmid: int
) -> None:
    world.pve.faults.fail_next_task("qmstop", "can't lock file '/var/lock/qemu-server/lock-500'")
    with pytest.raises(TaskFailed):
        provisioner.stop_vm(vmid, request_id="stop-1")
    assert provisioner.stop_vm(vmid, request_id="stop-1").status == "stopped"
    results = [r.result for r in provisioner.audit.query(vmid=vmid, action="vm stop")]
    assert results == ["ok", "failed"]


def test_one_request_id_cannot_be_replayed_on_another_vm(
    provisioner: Provisioner, world: SimEnvironment, vmid: int
) -> None:
    provisioner.stop_vm(vmid, request_id="stop-2")
    world.pve.state.add_vm(777, "other", running=True)
    with pytest.raises(Conflict, match="not of VM 777"):
        provisioner.stop_vm(777, request_id="stop-2")
    assert world.pve.state.guests[777].running


def test_template_destroy_once_per_request_id(
    provisioner: Provisioner, world: SimEnvironment
) -> None:
    world.pve.state.add_template(9001, "debian12-template", tags=["solti", "template"])
    provisioner.destroy_template(9001, actor="alice", request_id="appr-9")
    provisioner.destroy_template(9001, actor="alice", request_id="appr-9")  # no NotFound
    records = provisioner.audit.query(action="template destroy")
    assert [(r.result, r.request_id) for r in records] == [("ok", "appr-9")]
