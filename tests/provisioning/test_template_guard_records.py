"""The template guard relies on the product's records, not on storage ``parent`` fields.

pve-storage ``LvmThinPlugin.pm`` ``list_images`` lists linked clones on LVM-thin without a
``parent`` and ``Storage.pm`` ``vdisk_free`` lets PVE destroy a base volume they still use, so
``template destroy`` must know its clones from the audit log (issue 11, point 1).
"""

from __future__ import annotations

import pytest

from solti.provisioning.errors import Conflict
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.sim.conftest import run_ok


def test_refuses_on_lvm_thin_where_storage_shows_no_parent(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str
) -> None:
    info = provisioner.build_template("ubuntu2404").template
    vm = provisioner.create_vm({"template": info.vmid, "ssh_keys": [ssh_key]}).vm
    api = world.pve.client()
    images = api.nodes(vm.node).storage("local-lvm").content.get(vmid=vm.vmid)
    assert images and all("parent" not in image for image in images)
    with pytest.raises(Conflict, match=str(vm.vmid)):
        provisioner.destroy_template(info.vmid, actor="bob")


def test_a_clone_removed_outside_the_product_no_longer_blocks(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str
) -> None:
    info = provisioner.build_template("ubuntu2404").template
    vm = provisioner.create_vm({"template": info.vmid, "ssh_keys": [ssh_key]}).vm
    api = world.pve.client()
    run_ok(api, api.nodes(vm.node).qemu(vm.vmid).status.stop.post(), vm.node)
    run_ok(api, api.nodes(vm.node).qemu(vm.vmid).delete(), vm.node)
    provisioner.destroy_template(info.vmid, actor="bob")
    assert info.vmid not in world.pve.state.guests
