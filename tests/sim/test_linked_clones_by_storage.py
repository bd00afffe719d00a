"""Linked clones on LVM-thin and on file storages (issue 11, point 1).

pve-storage ``src/PVE/Storage/LvmThinPlugin.pm``: a linked clone is a thin snapshot named
``vm-N-disk-M`` and ``list_images`` reports no ``parent``; ``src/PVE/Storage.pm``
``vdisk_free`` ("LVM-thin allows deletion of still referenced base volumes!") and
``volume_is_base_and_used`` therefore let a template on LVM-thin be destroyed while clones
exist. ``src/PVE/Storage/Plugin.pm`` ``list_images``/``file_size_info``: on dir/NFS the
qcow2 backing file reads ``../9000/base-9000-disk-0.qcow2`` and the destroy is refused.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok


def test_lvm_thin_clone_has_no_parent_and_the_template_can_be_destroyed(
    pve: PveSimulator, api: Any
) -> None:
    pve.state.add_template(9000, "tpl")
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=500))
    images = api.nodes(NODE).storage("local-lvm").content.get(vmid=500)
    assert [i["volid"] for i in images if "parent" in i] == []
    run_ok(api, api.nodes(NODE).qemu(9000).delete())
    assert 9000 not in {vm["vmid"] for vm in api.nodes(NODE).qemu.get()}
    # The clone keeps working: it still starts.
    run_ok(api, api.nodes(NODE).qemu(500).status.start.post())


def test_file_storage_clone_names_its_backing_file_relative(pve: PveSimulator, api: Any) -> None:
    pve.state.add_template(9000, "tpl", storage="shared")
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=500))
    images = api.nodes(NODE).storage("shared").content.get(vmid=500)
    disk = next(i for i in images if "vm-500-disk-0" in i["volid"])
    assert disk["volid"] == "shared:9000/base-9000-disk-0.qcow2/500/vm-500-disk-0.qcow2"
    assert disk["parent"] == "../9000/base-9000-disk-0.qcow2"
