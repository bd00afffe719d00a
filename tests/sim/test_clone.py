"""POST .../clone: linked and full clones, locks, and the checks made before the task."""

from __future__ import annotations

import pytest
from proxmoxer import ResourceException

from tests.sim.conftest import NODE, run_ok, wait_task


def test_linked_clone_of_template(pve, api):
    pve.state.add_template(9000, "ubuntu-template", tags="ubuntu;template")
    upid = api.nodes(NODE).qemu(9000).clone.post(newid=501, name="web-1")
    assert ":qmclone:9000:" in upid
    run_ok(api, upid)
    conf = api.nodes(NODE).qemu(501).config.get()
    source = api.nodes(NODE).qemu(9000).config.get()
    assert conf["scsi0"] == "local-lvm:vm-501-disk-0,discard=on,size=3584M,ssd=1"
    assert conf["ide2"] == "local-lvm:vm-501-cloudinit,media=cdrom"
    assert conf["name"] == "web-1"
    assert "template" not in conf and "lock" not in conf
    assert conf["tags"] == "template;ubuntu"
    assert conf["net0"] != source["net0"]
    assert conf["smbios1"] != source["smbios1"]
    images = api.nodes(NODE).storage("local-lvm").content.get(vmid=501)
    disk = next(i for i in images if i["volid"] == "local-lvm:vm-501-disk-0")
    # pve-storage ``LvmThinPlugin.pm`` ``list_images`` reports no ``parent`` (issue 11, 1).
    assert "parent" not in disk
    assert disk["vmid"] == 501


def test_clone_target_is_locked_clone_while_task_runs(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.faults.task_duration("qmclone", 3600)
    api.nodes(NODE).qemu(9000).clone.post(newid=502)
    assert api.nodes(NODE).qemu(502).config.get()["lock"] == "clone"
    for attempt in (
        lambda: api.nodes(NODE).qemu(502).config.post(ciuser="x"),
        lambda: api.nodes(NODE).qemu(502).config.put(ciuser="x"),
    ):
        with pytest.raises(ResourceException) as info:
            attempt()
        assert info.value.content == "VM is locked (clone)"
    # several linked clones from one template may run in parallel
    api.nodes(NODE).qemu(9000).clone.post(newid=503)
    pve.advance(3601)
    assert "lock" not in api.nodes(NODE).qemu(502).config.get()
    assert api.nodes(NODE).qemu(503).config.get()["name"] == "Copy-of-VM-tpl"


def test_clone_of_missing_source(api):
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=504)
    assert info.value.content == "unable to find configuration file for VM 9000 on node 'pve'"


def test_clone_target_exists(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.state.add_vm(505, "taken")
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=505)
    assert info.value.content == "unable to create VM 505: config file already exists"


def test_linked_clone_needs_template(pve, api):
    pve.state.add_vm(100, "plain")
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(100).clone.post(newid=506, full=0)
    assert info.value.content == (
        "Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)"
    )


def test_storage_not_allowed_for_linked_clone(pve, api):
    pve.state.add_template(9000, "tpl")
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=507, storage="local-lvm")
    assert info.value.content == "parameter 'storage' not allowed for linked clones"


def test_full_clone_to_other_storage_and_node(pve, api):
    """A template wholly on shared storage clones to another node (``clone_vm``)."""
    pve.state.add_template(9000, "tpl", storage="shared")
    run_ok(
        api,
        api.nodes(NODE).qemu(9000).clone.post(newid=508, full=1, storage="shared", target="pve2"),
    )
    conf = api.nodes("pve2").qemu(508).config.get()
    assert conf["scsi0"].startswith("shared:508/vm-508-disk-0.qcow2,")
    assert any(vm["vmid"] == 508 for vm in api.nodes("pve2").qemu.get())


def test_target_node_needs_shared_storage(pve, api):
    pve.state.add_template(9000, "tpl")
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=509, target="pve2")
    assert info.value.content == "can't clone VM to node 'pve2' (VM uses local storage)"


def test_full_clone_of_plain_vm_by_default(pve, api):
    pve.state.add_vm(100, "plain")
    run_ok(api, api.nodes(NODE).qemu(100).clone.post(newid=510))
    images = api.nodes(NODE).storage("local-lvm").content.get(vmid=510)
    assert all("parent" not in i for i in images)


def test_failed_clone_removes_the_new_vm(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.faults.fail_next_task("qmclone", "clone failed: storage full")
    status = wait_task(api, api.nodes(NODE).qemu(9000).clone.post(newid=511))
    assert status["exitstatus"] == "clone failed: storage full"
    assert all(vm["vmid"] != 511 for vm in api.cluster.resources.get(type="vm"))


def test_locked_source_cannot_be_cloned(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.faults.hold_lock(9000, "backup", 3600)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).clone.post(newid=512)
    assert info.value.content == "VM is locked (backup)"
