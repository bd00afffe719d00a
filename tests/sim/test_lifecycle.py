"""resize, template, power, destroy, status and listings."""

from __future__ import annotations

import pytest
from proxmoxer import ResourceException

from tests.sim.conftest import NODE, create_vm, run_ok, wait_task


def _resize(pve, vmid: int, size: str) -> dict:
    return wait_task(pve, pve.nodes(NODE).qemu(vmid).resize.put(disk="scsi0", size=size))


def test_resize_absolute_and_relative(sim, pve):
    sim.state.add_vm(100, disk_size="3584M")
    assert _resize(pve, 100, "10G")["exitstatus"] == "OK"
    assert "size=10G" in pve.nodes(NODE).qemu(100).config.get()["scsi0"]
    assert _resize(pve, 100, "+512M")["exitstatus"] == "OK"
    assert "size=10752M" in pve.nodes(NODE).qemu(100).config.get()["scsi0"]
    volume = pve.nodes(NODE).storage("local-lvm").content.get(vmid=100)
    assert any(v["size"] == 10752 * 1024**2 for v in volume)


def test_resize_equal_is_noop_and_shrink_is_task_error(sim, pve):
    sim.state.add_vm(100, disk_size="10G")
    assert _resize(pve, 100, "10G")["exitstatus"] == "OK"
    upid = pve.nodes(NODE).qemu(100).resize.put(disk="scsi0", size="5G")
    assert ":resize:100:" in upid
    assert wait_task(pve, upid)["exitstatus"] == "shrinking disks is not supported"
    assert "size=10G" in pve.nodes(NODE).qemu(100).config.get()["scsi0"]


def test_resize_missing_disk_and_cdrom(sim, pve):
    sim.state.add_vm(100)
    status = wait_task(pve, pve.nodes(NODE).qemu(100).resize.put(disk="scsi1", size="1G"))
    assert status["exitstatus"] == "disk 'scsi1' does not exist"
    status = wait_task(pve, pve.nodes(NODE).qemu(100).resize.put(disk="ide2", size="1G"))
    assert status["exitstatus"] == "you can't resize a cdrom"


def test_template_renames_volumes_to_base(sim, pve):
    sim.state.add_vm(9000, "tpl")
    upid = pve.nodes(NODE).qemu(9000).template.post()
    assert ":qmtemplate:9000:" in upid
    run_ok(pve, upid)
    conf = pve.nodes(NODE).qemu(9000).config.get()
    assert conf["template"] == 1
    assert conf["scsi0"].startswith("local-lvm:base-9000-disk-0,")
    assert conf["ide2"] == "local-lvm:vm-9000-cloudinit,media=cdrom"
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(9000).template.post()
    assert info.value.content == "you can't convert a template to a template"


def test_template_refuses_running_vm(sim, pve):
    sim.state.add_vm(100, running=True)
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(100).template.post()
    assert info.value.content == "you can't convert a VM to template if VM is running"


def test_template_of_missing_vm(pve):
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(777).template.post()
    assert (
        info.value.content == "Configuration file 'nodes/pve/qemu-server/777.conf' does not exist"
    )


def test_start_stop_shutdown(sim, pve):
    sim.state.add_vm(100)
    vm = pve.nodes(NODE).qemu(100)
    assert vm.status.current.get()["status"] == "stopped"
    upid = vm.status.start.post()
    assert ":qmstart:100:" in upid
    run_ok(pve, upid)
    current = vm.status.current.get()
    assert current["status"] == "running" and current["ha"] == {"managed": 0}
    assert wait_task(pve, vm.status.start.post())["exitstatus"] == "VM 100 already running"
    run_ok(pve, vm.status.shutdown.post())
    assert vm.status.current.get()["status"] == "stopped"
    run_ok(pve, vm.status.stop.post())


def test_start_of_template_fails_in_task(sim, pve):
    sim.state.add_template(9000, "tpl")
    status = wait_task(pve, pve.nodes(NODE).qemu(9000).status.start.post())
    assert status["exitstatus"] == "you can't start a vm if it's a template"


def test_destroy_checks(sim, pve):
    sim.state.add_vm(100, running=True)
    sim.state.add_vm(101, protection=1)
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(100).delete()
    assert info.value.content == "VM 100 is running - destroy failed"
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(101).delete()
    assert info.value.content == "can't remove VM 101 - protection mode enabled"
    with pytest.raises(ResourceException) as info:
        pve.nodes(NODE).qemu(102).delete()
    assert (
        info.value.content == "Configuration file 'nodes/pve/qemu-server/102.conf' does not exist"
    )


def test_destroy_removes_config_and_disks(sim, pve):
    sim.state.add_vm(100)
    upid = pve.nodes(NODE).qemu(100).delete(purge=1, **{"destroy-unreferenced-disks": 1})
    assert ":qmdestroy:100:" in upid
    run_ok(pve, upid)
    assert pve.nodes(NODE).qemu.get() == []
    assert pve.nodes(NODE).storage("local-lvm").content.get(vmid=100) == []


def test_destroy_template_still_used_by_linked_clone(sim, pve):
    sim.state.add_template(9000, "tpl")
    run_ok(pve, pve.nodes(NODE).qemu(9000).clone.post(newid=501))
    status = wait_task(pve, pve.nodes(NODE).qemu(9000).delete())
    assert status["exitstatus"] == (
        "base volume 'local-lvm:base-9000-disk-0' is still in use by linked cloned"
    )
    assert pve.nodes(NODE).qemu(9000).config.get()["template"] == 1


def test_destroy_of_locked_vm_fails_in_task(sim, pve):
    sim.state.add_vm(100)
    sim.faults.hold_lock(100, "backup", 3600)
    status = wait_task(pve, pve.nodes(NODE).qemu(100).delete())
    assert status["exitstatus"] == "VM is locked (backup)"


def test_cluster_resources_show_every_vm_of_every_node(sim, pve):
    sim.state.add_vm(100, "a", tags="x")
    sim.state.add_template(9000, "tpl", node="pve3")
    vms = {r["vmid"]: r for r in pve.cluster.resources.get(type="vm")}
    assert vms[100]["node"] == "pve" and vms[100]["id"] == "qemu/100"
    assert vms[100]["type"] == "qemu" and vms[100]["tags"] == "x"
    assert vms[9000]["node"] == "pve3" and vms[9000]["template"] == 1
    storages = pve.cluster.resources.get(type="storage")
    assert {s["storage"] for s in storages} == {"local", "local-lvm", "shared"}
    assert all(r["type"] == "storage" for r in storages)


def test_node_vm_list(sim, pve):
    sim.state.add_vm(100, "a")
    sim.state.add_vm(101, "b", node="pve2")
    create_vm(pve, 102)
    rows = pve.nodes(NODE).qemu.get()
    assert {r["vmid"] for r in rows} == {100, 102}
    assert next(r for r in rows if r["vmid"] == 102)["name"] == "VM 102"


def test_storage_listing(pve):
    storages = {s["storage"]: s for s in pve.nodes(NODE).storage.get()}
    assert storages["local"]["type"] == "dir"
    assert set(storages["local"]["content"].split(",")) == {"iso", "vztmpl", "import", "snippets"}
    assert storages["local-lvm"]["type"] == "lvmthin"
    assert storages["shared"]["shared"] == 1
    assert [s["storage"] for s in pve.nodes(NODE).storage.get(content="images")] == [
        "local-lvm",
        "shared",
    ]


def test_resize_during_clone_fails_in_task_with_lock(sim, pve):
    sim.state.add_template(9000, "tpl")
    sim.faults.task_duration("qmclone", 3600)
    pve.nodes(NODE).qemu(9000).clone.post(newid=501)
    status = wait_task(pve, pve.nodes(NODE).qemu(501).resize.put(disk="scsi0", size="20G"))
    assert status["exitstatus"] == "VM is locked (clone)"


def test_shutdown_and_stop_of_stopped_vm_are_ok(sim, pve):
    sim.state.add_vm(100)
    run_ok(pve, pve.nodes(NODE).qemu(100).status.shutdown.post())
    run_ok(pve, pve.nodes(NODE).qemu(100).status.stop.post())
    assert pve.nodes(NODE).qemu(100).status.current.get()["status"] == "stopped"


def test_stop_of_missing_vm_is_task_error(pve):
    status = wait_task(pve, pve.nodes(NODE).qemu(555).status.stop.post())
    assert status["exitstatus"] == "unable to find configuration file for VM 555 on node 'pve'"


def test_linked_clone_on_file_storage_names_volumes_like_pve(sim, pve):
    sim.state.add_template(9000, "tpl", storage="shared")
    conf = pve.nodes(NODE).qemu(9000).config.get()
    assert conf["scsi0"].startswith("shared:9000/base-9000-disk-0.qcow2,")
    run_ok(pve, pve.nodes(NODE).qemu(9000).clone.post(newid=502))
    clone = pve.nodes(NODE).qemu(502).config.get()
    assert clone["scsi0"].startswith("shared:9000/base-9000-disk-0.qcow2/502/vm-502-disk-0.qcow2,")
    assert clone["ide2"] == "shared:502/vm-502-cloudinit.qcow2,media=cdrom"


def test_tags_are_the_same_string_everywhere(sim, pve):
    create_vm(pve, 100, tags="Web;db web")
    assert pve.nodes(NODE).qemu(100).config.get()["tags"] == "db;web"
    assert pve.nodes(NODE).qemu(100).status.current.get()["tags"] == "db;web"
    assert pve.cluster.resources.get(type="vm")[0]["tags"] == "db;web"
