"""The removal of a half-made VM meets the same faults as the create it undoes (found by the
chaos run, issue 12): a 500 on its DELETE, a DELETE whose answer is lost, a held lock, a failed
destroy task. It is tried again, never leaves the VM behind, and never removes a VM that took
the VMID since."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.provisioning import AuditLog, Provisioner, ProxmoxSettings, load_policy
from solti.provisioning.errors import TaskFailed
from solti.provisioning.pve import PveClient, VmMissing
from solti.sandbox.environment import SimEnvironment
from tests.bot.conftest import KEY
from tests.helpers.worlds import TEMPLATE, fresh_world

DELETE = "/nodes/*/qemu/*"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env


@pytest.fixture
def world(sim: SimEnvironment) -> SimEnvironment:
    return fresh_world(sim)


@pytest.fixture
def provisioner(world: SimEnvironment, tmp_path: Path) -> Provisioner:
    settings = ProxmoxSettings.from_env(world.env)
    policy = load_policy(world.config_path)
    return Provisioner(PveClient.from_settings(settings), AuditLog(tmp_path / "solti.db"),
                       policy.catalog(), policy.defaults, fleet=policy.fleet())  # fmt: skip


def _fail_the_resize(provisioner: Provisioner) -> str:
    request = {"template": "rocky9", "ssh_keys": [KEY], "name": "undo-me", "disk": "20G"}
    with pytest.raises(TaskFailed) as failed:
        provisioner.create_vm(request, actor="ops", via="cli")
    return failed.value.message


@pytest.mark.parametrize(
    "fault",
    ["http_500", "lost_answer", "destroy_task_fails", "held_lock"],
)
def test_a_faulty_cleanup_is_tried_again_and_removes_the_vm(
    world: SimEnvironment, provisioner: Provisioner, fault: str
) -> None:
    faults = world.pve.faults
    faults.fail_next_task("resize", "resize failed: simulated")
    if fault == "http_500":
        faults.http_errors(1, 500, method="DELETE", path=DELETE)
    elif fault == "lost_answer":
        faults.late_answers(1, None, method="DELETE", path=DELETE)  # destroyed, not answered
    elif fault == "destroy_task_fails":
        faults.fail_next_task("qmdestroy", "can't remove disk: simulated")
    else:  # a backup takes the VM's lock just as the cleanup looks at the VM
        read_status = provisioner.client.vm_status

        def status_then_backup(node: str, vmid: int) -> dict:
            answer = read_status(node, vmid)
            provisioner.client.vm_status = read_status  # type: ignore[method-assign]
            faults.hold_lock(vmid, "backup", 1.5)
            return answer

        provisioner.client.vm_status = status_then_backup  # type: ignore[method-assign]
    message = _fail_the_resize(provisioner)
    assert faults.pending() == 0
    assert sorted(world.pve.state.guests) == [TEMPLATE], message
    assert "could not be removed" not in message
    (record,) = provisioner.audit.query(limit=None)
    assert record.result == "failed" and "could not be removed" not in (record.error or "")


def test_a_retry_never_removes_a_vm_that_took_the_vmid_since(
    world: SimEnvironment, provisioner: Provisioner
) -> None:
    """The first DELETE did take effect (its answer was lost) and another process cloned a VM
    of its own into the freed VMID before the retry looked: that VM stays."""
    faults = world.pve.faults
    faults.fail_next_task("resize", "resize failed: simulated")
    faults.late_answers(1, None, method="DELETE", path=DELETE)  # destroyed, not answered
    client = provisioner.client
    original = client.delete_vm

    def delete_then_reuse(node: str, vmid: int, *, purge: bool = True) -> str:
        try:
            return original(node, vmid, purge=purge)
        finally:  # the destroy task ends, and another process clones into the freed id
            for _ in range(100):  # an API read lets the simulator end due tasks
                try:
                    client.vm_config(node, 500)
                except VmMissing:
                    break
                threading.Event().wait(0.05)
            world.pve.state.add_vm(500, "someone-else", tags=["other"])

    client.delete_vm = delete_then_reuse  # type: ignore[method-assign]
    message = _fail_the_resize(provisioner)
    assert faults.pending() == 0
    assert sorted(world.pve.state.guests) == [500, TEMPLATE], message
    assert world.pve.state.guests[500].conf["name"] == "someone-else"
