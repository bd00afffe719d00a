"""Writes that checked less (or recorded less) than PVE 9.1, each against qemu-server's Perl.

Every test calls the simulator over HTTPS with the real proxmoxer client: the API token
(``api``) with the ACL the test grants, root@pam by ticket (``root_login``) to set up and read.
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import GIB, grant, qcow2_image, refusal, root_login, run_ok, wait_task
from tests.sim.test_write_permissions import refused_unchanged, vm, world

# --- template: ``$load_and_check`` ---------------------------------------------------------


def test_template_refuses_a_vm_with_snapshots(pve: PveSimulator) -> None:
    """qemu-server ``API2/Qemu.pm`` ``template``: ``$load_and_check`` (before the fork) dies
    "unable to create template, because VM contains snapshots" after ``check_lock`` and
    before the template and running checks: a 500, nothing changed."""
    pve.state.add_vm(100, running=True)
    root = root_login(pve)
    run_ok(root, vm(root).snapshot.post(snapname="s1"))
    before = world(pve)
    assert refusal(vm(root).template.post) == (
        500,
        "unable to create template, because VM contains snapshots",
    )
    assert world(pve) == before
    run_ok(root, vm(root).snapshot("s1").delete())
    # without snapshots the next check speaks: the VM runs
    assert refusal(vm(root).template.post) == (
        500,
        "you can't convert a VM to template if VM is running",
    )
    run_ok(root, vm(root).status.stop.post())
    run_ok(root, vm(root).template.post())
    assert vm(root).config.get()["template"] == 1


def test_template_worker_checks_again(pve: PveSimulator) -> None:
    """``template``'s worker runs ``$load_and_check`` again under the config lock: a snapshot
    taken between the call and the worker fails the task with that exit status."""
    pve.state.add_vm(100)
    root = root_login(pve)
    pve.faults.task_duration("qmtemplate", 0.5)
    upid = vm(root).template.post()
    run_ok(root, vm(root).snapshot.post(snapname="s1"))
    status = wait_task(root, upid)
    assert status["exitstatus"] == "unable to create template, because VM contains snapshots"
    assert "template" not in vm(root).config.get()


def test_a_second_destroy_accepted_meanwhile_fails_in_its_worker(pve: PveSimulator) -> None:
    """qemu-server ``API2/Qemu.pm`` ``destroy_vm`` repeats ``$early_checks`` inside the worker
    ("repeat, config might have changed"), whose ``load_config`` dies once the first destroy
    removed the VM: two `solti vm remove` at once end in one destroyed VM and one failed task
    (the simulator used to report both OK)."""
    pve.state.add_vm(100)
    root = root_login(pve)
    pve.faults.task_duration("qmdestroy", 0.5)
    first = vm(root).delete()
    second = vm(root).delete()
    run_ok(root, first)
    status = wait_task(root, second)
    assert (
        status["exitstatus"] == "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist"
    )
    assert refusal(vm(root).config.get)[0] == 500


# --- clone: ``$check_storage_access_clone`` -----------------------------------------------


def test_clone_checks_the_host_cdrom_then_vmstatestorage(pve: PveSimulator, api: Any) -> None:
    """``$check_storage_access_clone``: per volume in ``foreach_volume`` order, the host's
    CD-ROM (``cdrom``) needs ``Sys.Console`` on ``/``, each disk ``Datastore.AllocateSpace``
    on its storage; then ``Datastore.AllocateSpace`` on ``vmstatestorage``."""
    pve.state.add_vm(100)
    root = root_login(pve)
    vm(root).config.put(ide2="cdrom,media=cdrom", vmstatestorage="local")
    clone = vm(api).clone.post
    acl = {"/vms/100": ["VM.Clone"], "/vms/500": ["VM.Allocate"],
           "/storage/local-lvm": ["Datastore.AllocateSpace"]}  # fmt: skip
    grant(pve, {**acl, "/": ["SDN.Use"]})
    assert refused_unchanged(pve, lambda: clone(newid=500)) == (
        403,
        "Permission check failed (/, Sys.Console)",
    )
    grant(pve, {**acl, "/": ["SDN.Use", "Sys.Console"]})
    assert refused_unchanged(pve, lambda: clone(newid=500)) == (
        403,
        "Permission check failed (/storage/local, Datastore.AllocateSpace)",
    )
    grant(pve, {**acl, "/": ["SDN.Use", "Sys.Console"],
                "/storage/local": ["Datastore.AllocateSpace"]})  # fmt: skip
    run_ok(root, clone(newid=500))
    assert vm(root, 500).config.get()["vmstatestorage"] == "local"


def test_clone_of_a_host_device_path_dies_in_parse_volume_id(pve: PveSimulator) -> None:
    """A CD-ROM that is a host path is no volume ID: ``$check_storage_access_clone`` calls
    pve-storage ``parse_volume_id`` without ``noerr``, which dies "unable to parse volume ID"
    (for root too)."""
    pve.state.add_vm(100)
    root = root_login(pve)
    vm(root).config.put(ide2="/dev/sr0,media=cdrom")
    before = world(pve)
    assert refusal(lambda: vm(root).clone.post(newid=500)) == (
        500,
        "unable to parse volume ID '/dev/sr0'",
    )
    assert world(pve) == before


# --- config updates: ``$update_vm_api``'s ``$check_storage_access`` -------------------------


def test_update_checks_options_then_volume_access(pve: PveSimulator, api: Any) -> None:
    """``$update_vm_api``: ``$check_vm_modify_config_perm`` first, then
    ``$check_storage_access``, which for an existing volume runs pve-storage
    ``check_volume_access``: another VM's disk needs ``Datastore.Audit`` on its storage and
    ``VM.Config.Disk`` on the owner; the VM's own volume is allowed."""
    pve.state.add_vm(100)
    pve.state.add_vm(101)
    other = "local-lvm:vm-101-disk-0"
    config = vm(api).config.put
    grant(pve, {"/vms/100": ["VM.Config.Disk"]})
    assert refused_unchanged(pve, lambda: config(scsi1=other, name="x")) == (
        403,
        "Permission check failed (/vms/100, VM.Config.Options)",
    )
    assert refused_unchanged(pve, lambda: config(scsi1=other)) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.Audit)",
    )
    grant(pve, {"/vms/100": ["VM.Config.Disk"], "/storage": ["Datastore.Audit"]})
    assert refused_unchanged(pve, lambda: config(scsi1=other)) == (
        403,
        "Permission check failed (/vms/101, VM.Config.Disk)",
    )
    assert refused_unchanged(pve, lambda: config(vmstatestorage="local")) == (
        403,
        "Permission check failed (/storage/local, Datastore.AllocateSpace)",
    )
    # its own volume, detached and attached again: allowed without storage privileges
    root = root_login(pve)
    vm(root).config.put(delete="scsi0")
    grant(pve, {"/vms/100": ["VM.Config.Disk"]})
    config(scsi0="local-lvm:vm-100-disk-0")
    assert vm(root).config.get()["scsi0"].startswith("local-lvm:vm-100-disk-0")


def test_update_checks_import_sources_and_paths(pve: PveSimulator, api: Any) -> None:
    """``$check_storage_access`` on update: a new disk needs ``Datastore.AllocateSpace``, an
    ``import-from`` source read access to its storage (``check_volume_access`` of an
    ``import`` volume), a path is root@pam's alone."""
    pve.state.add_vm(100)
    pve.state.add_import_image("a.qcow2", qcow2_image(GIB))
    config = vm(api).config.post
    grant(pve, {"/vms/100": ["VM.Config.Disk"], "/storage/local-lvm": ["Datastore.AllocateSpace"]})
    assert refused_unchanged(
        pve, lambda: config(scsi1="local-lvm:0,import-from=local:import/a.qcow2")
    ) == (403, "Permission check failed (/storage/local, Datastore.AllocateSpace|Datastore.Audit)")
    assert refused_unchanged(pve, lambda: config(scsi1="/dev/sdb")) == (
        500,
        "Only root can pass arbitrary filesystem paths.",
    )
    grant(pve, {"/vms/100": ["VM.Config.Disk"], "/storage": ["Datastore.AllocateSpace"]})
    run_ok(root_login(pve), config(scsi1="local-lvm:0,import-from=local:import/a.qcow2"))
    assert "scsi1" in vm(root_login(pve)).config.get()


# --- snapshots with RAM: ``runningmachine`` / ``runningcpu`` ------------------------------


def test_ram_snapshot_records_and_rollback_forces_the_running_machine(pve: PveSimulator) -> None:
    """qemu-server ``QemuConfig.pm`` ``__snapshot_save_vmstate`` records the running machine
    (``get_current_qemu_machine``) and ``-cpu`` (``get_cpu_from_running_vm``) in the
    snapshot's section; ``__snapshot_rollback_hook`` takes them out of the restored config
    and ``__snapshot_rollback_vm_start`` starts the VM with that machine, whatever the
    config's ``machine`` says."""
    pve.state.add_vm(100, running=True)
    root = root_login(pve)
    run_ok(root, vm(root).snapshot.post(snapname="ram", vmstate=1))
    section = vm(root).snapshot("ram").config.get()
    assert section["runningmachine"] == "pc-i440fx-10.1+pve0"
    # CPUConfig.pm get_cpu_options for kvm64 on KVM: the PVE flags, enforce, sorted
    assert section["runningcpu"] == "kvm64,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,+sep"
    run_ok(root, vm(root).snapshot.post(snapname="disk"))
    assert "runningmachine" not in vm(root).snapshot("disk").config.get()
    run_ok(root, vm(root).status.stop.post())
    vm(root).config.put(machine="q35")
    run_ok(root, vm(root).snapshot("ram").rollback.post())
    status = vm(root).status.current.get()
    assert status["status"] == "running"
    assert status["running-machine"] == "pc-i440fx-10.1+pve0"
    conf = vm(root).config.get()
    assert "runningmachine" not in conf and "runningcpu" not in conf
    # a later plain start reads the (restored) config again
    run_ok(root, vm(root).status.stop.post())
    vm(root).config.put(machine="q35")
    run_ok(root, vm(root).status.start.post())
    assert vm(root).status.current.get()["running-machine"] == "pc-q35-10.1+pve0"


def test_snapshot_of_a_stopped_vm_records_no_running_machine(pve: PveSimulator) -> None:
    """``__snapshot_save_vmstate`` runs only for a running VM (``__snapshot_check_running``)."""
    pve.state.add_vm(100, cpu="x86-64-v2-AES")
    root = root_login(pve)
    run_ok(root, vm(root).snapshot.post(snapname="stopped", vmstate=1))
    section = vm(root).snapshot("stopped").config.get()
    assert "runningmachine" not in section and "runningcpu" not in section
    run_ok(root, vm(root).status.start.post())
    run_ok(root, vm(root).snapshot.post(snapname="running", vmstate=1))
    assert vm(root).snapshot("running").config.get()["runningcpu"] == (
        "qemu64,+aes,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+pni,+popcnt,+sse4.1,+sse4.2,+ssse3"
    )
