"""Failures injected at each create step leave nothing behind; every lifecycle verb, audited."""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.errors import InvalidRequest, ProxmoxError, TaskFailed
from solti.provisioning.pve import PveClient
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


@pytest.fixture
def rocky(world: SimEnvironment) -> int:
    world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                               tags=["solti", "template", "rocky9"])  # fmt: skip
    return 9000


def vms_on(world: SimEnvironment) -> list[int]:
    return sorted(v for v in world.pve.state.guests if v < 9000)


def create(p: Provisioner, key: str, **kw: Any) -> Any:
    return p.create_vm({"template": "rocky9", "ssh_keys": [key], "disk": "20G", **kw},
                       actor="alice")  # fmt: skip


TASK_FAULTS = [
    ("clone", "qmclone", "clone failed: storage 'local-lvm' is full"),
    ("resize", "resize", "shrinking disks is not supported"),
    ("start", "qmstart", "start failed: QEMU exited with code 1"),
]


@pytest.mark.parametrize(("step", "task_type", "message"), TASK_FAULTS)
def test_failed_task_at_each_step_removes_the_vm(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str,
    step: str, task_type: str, message: str,
) -> None:  # fmt: skip
    world.pve.faults.fail_next_task(task_type, message)
    with pytest.raises(TaskFailed) as caught:
        create(provisioner, ssh_key)
    assert caught.value.step == step and message in str(caught.value)
    assert vms_on(world) == []
    record = provisioner.audit.query(action="vm create")[0]
    assert record.result == "failed" and record.actor == "alice"
    assert record.error.startswith(f"{step}: ") and message in record.error
    assert record.template_vmid == 9000


HTTP_FAULTS = [
    ("clone", "POST", "/nodes/*/qemu/9000/clone"),
    ("configure", "PUT", "/nodes/*/qemu/*/config"),
    ("resize", "PUT", "/nodes/*/qemu/*/resize"),
    ("start", "POST", "/nodes/*/qemu/*/status/start"),
]


@pytest.mark.parametrize(("step", "method", "path"), HTTP_FAULTS)
def test_http_error_at_each_step_removes_the_vm(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str,
    step: str, method: str, path: str,
) -> None:  # fmt: skip
    world.pve.faults.http_errors(1, status=500, method=method, path=path)
    with pytest.raises(ProxmoxError) as caught:
        create(provisioner, ssh_key)
    assert caught.value.step == step and caught.value.status == 500
    assert vms_on(world) == []
    record = provisioner.audit.query(action="vm create")[0]
    assert record.result == "failed" and record.error.startswith(f"{step}: ")


def test_keep_on_failure_keeps_the_half_made_vm(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    world.pve.faults.fail_next_task("qmstart", "start failed: no KVM")
    with pytest.raises(TaskFailed, match="kept for inspection"):
        create(provisioner, ssh_key, keep_on_failure=True)
    assert vms_on(world) == [500]


class LockingClient(PveClient):
    """A real client; a backup grabs the new VM's lock just before our first config write."""

    def __init__(self, base: PveClient, world: SimEnvironment) -> None:
        super().__init__(base._factory, where=base.where)
        self._world = world
        self.config_writes = 0

    def set_config(self, node: str, vmid: int, **params: Any) -> None:
        self.config_writes += 1
        if self.config_writes == 1:
            self._world.pve.faults.hold_lock(vmid, "backup", 0.3)
        super().set_config(node, vmid, **params)


def test_lock_held_after_clone_is_waited_for(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    client = LockingClient(provisioner.client, world)
    provisioner.ops.client = client
    vm = create(provisioner, ssh_key).vm
    config = provisioner.client.vm_config(vm.node, vm.vmid)
    assert "lock" not in config and config["ciuser"] == "rocky"
    puts = [r for r in world.pve.requests if r.method == "PUT" and r.path.endswith("/config")]
    assert puts[0].status == 500 and puts[-1].status == 200
    assert client.config_writes == len(puts) >= 2


def test_every_lifecycle_verb_is_audited(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    vm = create(provisioner, ssh_key).vm
    listed = provisioner.list_vms()
    assert [(v.vmid, v.owner, v.template_vmid) for v in listed] == [(vm.vmid, "alice", 9000)]
    assert provisioner.list_vms(owner="bob") == []
    verified = provisioner.verify_vm(vm.vmid)
    assert verified.status == "running" and verified.template_name == "rocky9-template"
    assert provisioner.stop_vm(vm.vmid, actor="bob").status == "stopped"
    assert provisioner.start_vm(vm.vmid, actor="bob").status == "running"
    assert provisioner.shutdown_vm(vm.vmid, timeout=30, actor="bob").status == "stopped"
    provisioner.start_vm(vm.vmid, actor="bob")
    provisioner.remove_vm(vm.vmid, actor="bob")  # running: stopped first
    assert vms_on(world) == []
    actions = [r.action for r in provisioner.audit.query(vmid=vm.vmid, limit=None)]
    assert actions == ["vm remove", "vm start", "vm shutdown", "vm start", "vm stop",
                       "vm create"]  # fmt: skip
    records = provisioner.audit.query(vmid=vm.vmid, limit=None)
    assert all(r.result == "ok" and r.template_vmid == 9000 for r in records)
    assert {r.actor for r in records[:-1]} == {"bob"}


def test_lifecycle_refuses_templates_and_reports_shutdown_timeout(
    provisioner: Provisioner, world: SimEnvironment, rocky: int, ssh_key: str
) -> None:
    with pytest.raises(InvalidRequest, match="template"):
        provisioner.remove_vm(9000)
    vm = create(provisioner, ssh_key).vm
    world.pve.faults.fail_next_task("qmshutdown", "VM quit/powerdown failed - got timeout")
    with pytest.raises(TaskFailed, match="vm stop"):
        provisioner.shutdown_vm(vm.vmid, timeout=5, actor="bob")
    record = provisioner.audit.query(action="vm shutdown")[0]
    assert record.result == "failed" and "got timeout" in record.error
