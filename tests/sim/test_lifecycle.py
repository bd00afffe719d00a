"""resize, template, power, destroy, status and listings."""

from __future__ import annotations

import pytest
from proxmoxer import ResourceException

from tests.sim.conftest import NODE, create_vm, run_ok, wait_task


def _resize(api, vmid: int, size: str) -> dict:
    return wait_task(api, api.nodes(NODE).qemu(vmid).resize.put(disk="scsi0", size=size))


def test_resize_absolute_and_relative(pve, api):
    pve.state.add_vm(100, disk_size="3584M")
    assert _resize(api, 100, "10G")["exitstatus"] == "OK"
    assert "size=10G" in api.nodes(NODE).qemu(100).config.get()["scsi0"]
    assert _resize(api, 100, "+512M")["exitstatus"] == "OK"
    assert "size=10752M" in api.nodes(NODE).qemu(100).config.get()["scsi0"]
    volume = api.nodes(NODE).storage("local-lvm").content.get(vmid=100)
    assert any(v["size"] == 10752 * 1024**2 for v in volume)


def test_resize_equal_is_noop_and_shrink_is_task_error(pve, api):
    pve.state.add_vm(100, disk_size="10G")
    assert _resize(api, 100, "10G")["exitstatus"] == "OK"
    upid = api.nodes(NODE).qemu(100).resize.put(disk="scsi0", size="5G")
    assert ":resize:100:" in upid
    assert wait_task(api, upid)["exitstatus"] == "shrinking disks is not supported"
    assert "size=10G" in api.nodes(NODE).qemu(100).config.get()["scsi0"]


def test_resize_missing_disk_and_cdrom(pve, api):
    pve.state.add_vm(100)
    status = wait_task(api, api.nodes(NODE).qemu(100).resize.put(disk="scsi1", size="1G"))
    assert status["exitstatus"] == "disk 'scsi1' does not exist"
    status = wait_task(api, api.nodes(NODE).qemu(100).resize.put(disk="ide2", size="1G"))
    assert status["exitstatus"] == "you can't resize a cdrom"


def test_template_renames_volumes_to_base(pve, api):
    pve.state.add_vm(9000, "tpl")
    upid = api.nodes(NODE).qemu(9000).template.post()
    assert ":qmtemplate:9000:" in upid
    run_ok(api, upid)
    conf = api.nodes(NODE).qemu(9000).config.get()
    assert conf["template"] == 1
    assert conf["scsi0"].startswith("local-lvm:base-9000-disk-0,")
    assert conf["ide2"] == "local-lvm:vm-9000-cloudinit,media=cdrom"
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(9000).template.post()
    assert info.value.content == "you can't convert a template to a template"


def test_template_refuses_running_vm(pve, api):
    pve.state.add_vm(100, running=True)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(100).template.post()
    assert info.value.content == "you can't convert a VM to template if VM is running"


def test_template_of_missing_vm(api):
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(777).template.post()
    assert (
        info.value.content == "Configuration file 'nodes/pve/qemu-server/777.conf' does not exist"
    )


def test_start_stop_shutdown(pve, api):
    pve.state.add_vm(100)
    vm = api.nodes(NODE).qemu(100)
    assert vm.status.current.get()["status"] == "stopped"
    upid = vm.status.start.post()
    assert ":qmstart:100:" in upid
    run_ok(api, upid)
    current = vm.status.current.get()
    assert current["status"] == "running" and current["ha"] == {"managed": 0}
    assert wait_task(api, vm.status.start.post())["exitstatus"] == "VM 100 already running"
    run_ok(api, vm.status.shutdown.post())
    assert vm.status.current.get()["status"] == "stopped"
    run_ok(api, vm.status.stop.post())


def test_start_of_template_fails_in_task(pve, api):
    pve.state.add_template(9000, "tpl")
    status = wait_task(api, api.nodes(NODE).qemu(9000).status.start.post())
    assert status["exitstatus"] == "you can't start a vm if it's a template"


def test_destroy_checks(pve, api):
    pve.state.add_vm(100, running=True)
    pve.state.add_vm(101, protection=1)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(100).delete()
    assert info.value.content == "VM 100 is running - destroy failed"
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(101).delete()
    assert info.value.content == "can't remove VM 101 - protection mode enabled"
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(102).delete()
    assert (
        info.value.content == "Configuration file 'nodes/pve/qemu-server/102.conf' does not exist"
    )


def test_destroy_removes_config_and_disks(pve, api):
    pve.state.add_vm(100)
    upid = api.nodes(NODE).qemu(100).delete(purge=1, **{"destroy-unreferenced-disks": 1})
    assert ":qmdestroy:100:" in upid
    run_ok(api, upid)
    assert api.nodes(NODE).qemu.get() == []
    assert api.nodes(NODE).storage("local-lvm").content.get(vmid=100) == []


def test_destroy_template_still_used_by_linked_clone(pve, api):
    """On file storage qemu-server ``destroy_vm`` refuses (``volume_is_base_and_used`` finds
    the clone through ``list_images``' backing file); see test_linked_clones_by_storage for
    LVM-thin, where it does not."""
    pve.state.add_template(9000, "tpl", storage="shared")
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=501))
    status = wait_task(api, api.nodes(NODE).qemu(9000).delete())
    assert status["exitstatus"] == (
        "base volume 'shared:9000/base-9000-disk-0.qcow2' is still in use by linked cloned"
    )
    assert api.nodes(NODE).qemu(9000).config.get()["template"] == 1


def test_destroy_of_locked_vm_fails_in_task(pve, api):
    pve.state.add_vm(100)
    pve.faults.hold_lock(100, "backup", 3600)
    status = wait_task(api, api.nodes(NODE).qemu(100).delete())
    assert status["exitstatus"] == "VM is locked (backup)"


def test_cluster_resources_show_every_vm_of_every_node(pve, api):
    pve.state.add_vm(100, "a", tags="x")
    pve.state.add_template(9000, "tpl", node="pve3")
    vms = {r["vmid"]: r for r in api.cluster.resources.get(type="vm")}
    assert vms[100]["node"] == "pve" and vms[100]["id"] == "qemu/100"
    assert vms[100]["type"] == "qemu" and vms[100]["tags"] == "x"
    assert vms[9000]["node"] == "pve3" and vms[9000]["template"] == 1
    storages = api.cluster.resources.get(type="storage")
    assert {s["storage"] for s in storages} == {"local", "local-lvm", "shared"}
    assert all(r["type"] == "storage" for r in storages)


def test_node_vm_list(pve, api):
    pve.state.add_vm(100, "a")
    pve.state.add_vm(101, "b", node="pve2")
    create_vm(api, 102)
    rows = api.nodes(NODE).qemu.get()
    assert {r["vmid"] for r in rows} == {100, 102}
    assert next(r for r in rows if r["vmid"] == 102)["name"] == "VM 102"


def test_storage_listing(api):
    storages = {s["storage"]: s for s in api.nodes(NODE).storage.get()}
    assert storages["local"]["type"] == "dir"
    assert set(storages["local"]["content"].split(",")) == {
        "iso",
        "vztmpl",
        "backup",
        "import",
        "snippets",
    }
    assert storages["local-lvm"]["type"] == "lvmthin"
    assert storages["shared"]["shared"] == 1
    assert [s["storage"] for s in api.nodes(NODE).storage.get(content="images")] == [
        "local-lvm",
        "shared",
    ]


def test_resize_during_clone_fails_in_task_with_lock(pve, api):
    pve.state.add_template(9000, "tpl")
    pve.faults.task_duration("qmclone", 3600)
    api.nodes(NODE).qemu(9000).clone.post(newid=501)
    status = wait_task(api, api.nodes(NODE).qemu(501).resize.put(disk="scsi0", size="20G"))
    assert status["exitstatus"] == "VM is locked (clone)"


def test_shutdown_and_stop_of_stopped_vm_are_ok(pve, api):
    pve.state.add_vm(100)
    run_ok(api, api.nodes(NODE).qemu(100).status.shutdown.post())
    run_ok(api, api.nodes(NODE).qemu(100).status.stop.post())
    assert api.nodes(NODE).qemu(100).status.current.get()["status"] == "stopped"


def test_stop_of_missing_vm_is_task_error(api):
    status = wait_task(api, api.nodes(NODE).qemu(555).status.stop.post())
    assert status["exitstatus"] == "unable to find configuration file for VM 555 on node 'pve'"


def test_linked_clone_on_file_storage_names_volumes_like_pve(pve, api):
    pve.state.add_template(9000, "tpl", storage="shared")
    conf = api.nodes(NODE).qemu(9000).config.get()
    assert conf["scsi0"].startswith("shared:9000/base-9000-disk-0.qcow2,")
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=502))
    clone = api.nodes(NODE).qemu(502).config.get()
    assert clone["scsi0"].startswith("shared:9000/base-9000-disk-0.qcow2/502/vm-502-disk-0.qcow2,")
    assert clone["ide2"] == "shared:502/vm-502-cloudinit.qcow2,media=cdrom"


def test_tags_are_the_same_string_everywhere(pve, api):
    create_vm(api, 100, tags="Web;db web")
    assert api.nodes(NODE).qemu(100).config.get()["tags"] == "db;web"
    assert api.nodes(NODE).qemu(100).status.current.get()["tags"] == "db;web"
    assert api.cluster.resources.get(type="vm")[0]["tags"] == "db;web"
