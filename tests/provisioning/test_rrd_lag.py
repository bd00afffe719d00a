"""Right after a build, /cluster/resources lists the new VMs bare (pve-semantics §10).

The simulator's clock is frozen and tasks end at once, so everything below happens "seconds
after" the build however slow the machine is: the RRD cache never catches up during a test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.pve.faults import DEFAULT_TASK_DURATIONS


@pytest.fixture
def frozen(world: SimEnvironment) -> SimEnvironment:
    world.pve.clock.freeze()
    for task_type in DEFAULT_TASK_DURATIONS:
        world.pve.faults.task_duration(task_type, 0)
    return world


def _bare(world: SimEnvironment, vmid: int) -> bool:
    row = next(r for r in world.pve.state.resources("vm") if r["vmid"] == vmid)
    return "name" not in row and row["status"] == "unknown"


@pytest.mark.parametrize("selector", ["rocky9", "rocky9-template"])
def test_create_right_after_build_by_distribution_and_by_name(
    provisioner: Provisioner, frozen: SimEnvironment, ssh_key: str, selector: str
) -> None:
    built = provisioner.build_template("rocky9").template
    assert _bare(frozen, built.vmid)  # the lookup below cannot read the name or the flag
    vm = provisioner.create_vm({"template": selector, "ssh_keys": [ssh_key]}).vm
    assert vm.template_vmid == built.vmid and vm.template_name == "rocky9-template"
    assert frozen.pve.state.vm_config(vm.vmid)["name"] == vm.name
    assert _bare(frozen, vm.vmid)


def test_default_names_stay_unique_across_processes(
    provisioner: Provisioner, frozen: SimEnvironment, ssh_key: str, tmp_path: Path
) -> None:
    """A second process (no shared reservations) must see the name the first just gave."""
    provisioner.build_template("debian12")
    other = Provisioner.from_settings(
        ProxmoxSettings.from_env(frozen.env), load_policy(frozen.config_path), tmp_path / "b.db"
    )
    first = provisioner.create_vm({"template": "debian12", "ssh_keys": [ssh_key]}).vm
    second = other.create_vm({"template": "debian12", "ssh_keys": [ssh_key]}).vm
    assert _bare(frozen, first.vmid) and second.vmid != first.vmid
    assert second.name != first.name and second.name.startswith(first.name)


def test_list_shows_live_names_and_status_of_new_vms(
    provisioner: Provisioner, frozen: SimEnvironment, ssh_key: str, tmp_path: Path
) -> None:
    provisioner.build_template("debian12")
    made = provisioner.create_vm({"template": "debian12", "ssh_keys": [ssh_key]}).vm
    # A fresh audit log: the name can only come from Proxmox, not from our own records.
    other = Provisioner.from_settings(
        ProxmoxSettings.from_env(frozen.env), load_policy(frozen.config_path), tmp_path / "c.db"
    )
    (listed,) = other.list_vms()
    assert (listed.vmid, listed.name) == (made.vmid, made.name)
    assert listed.status == "running"  # create starts it; the RRD row says "unknown"
    assert [t.vmid for t in other.list_templates("debian12")] == [9000]


def test_start_right_after_create_is_a_no_op(
    provisioner: Provisioner, frozen: SimEnvironment, ssh_key: str
) -> None:
    """The snapshot says ``unknown``; the live status says running, so no failing start task."""
    provisioner.build_template("rocky9")
    vm = provisioner.create_vm({"template": "rocky9", "ssh_keys": [ssh_key]}).vm
    assert _bare(frozen, vm.vmid)
    before = len(frozen.pve.requests)
    assert provisioner.start_vm(vm.vmid).status == "running"
    after = frozen.pve.requests[before:]
    assert not [r for r in after if r.path.endswith(f"/{vm.vmid}/status/start")]
    assert provisioner.audit.query(action="vm start")[0].result == "ok"
