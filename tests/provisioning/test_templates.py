"""Template build, list, verify, destroy and update detection against the simulator + mirror."""

from __future__ import annotations

import pytest

from solti.provisioning.catalog import Catalog
from solti.provisioning.errors import Conflict, InvalidRequest, ProxmoxError, TaskFailed
from solti.provisioning.notes import parse_notes
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment

DISTRIBUTIONS = Catalog.load().names


def templates_on(world: SimEnvironment) -> list[int]:
    return sorted(v for v in world.pve.state.guests if 9000 <= v <= 9999)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_build_every_catalog_distribution(
    provisioner: Provisioner, world: SimEnvironment, distribution: str
) -> None:
    steps: list[str] = []
    result = provisioner.build_template(
        distribution, actor="bob", progress=lambda p: steps.append(p.step)
    )
    info = result.template
    assert info.vmid == 9000 and info.name == f"{distribution}-template"
    assert info.distribution == distribution and info.status == "template"
    assert info.checksum and info.version and info.builder == "bob"
    assert steps == ["checksum", "download", "vmid", "create", "resize", "notes", "convert",
                     "verify"]  # fmt: skip
    config = provisioner.client.vm_config(info.node, info.vmid)
    assert config["template"] == 1
    assert config["machine"] == "q35" and config["bios"] == "ovmf"
    assert "efitype=4m" in config["efidisk0"] and "pre-enrolled-keys=0" in config["efidisk0"]
    assert config["scsi0"].startswith("local-lvm:base-9000-disk")
    assert "cloudinit" in config["ide2"] and config["serial0"] == "socket"
    assert config["vga"] == "serial0" and config["agent"] == "enabled=1"
    assert "template" in config["tags"].split(";")
    meta = parse_notes(config["description"])
    assert meta["checksum"] == info.checksum and meta["image_url"] == info.image_url
    assert meta["version"] == info.version != "unknown"
    assert not info.checksum.startswith(info.version)  # a version, never a digest prefix
    record = provisioner.audit.query(action="template build")[0]
    assert record.result == "ok" and record.actor == "bob"
    assert record.template_version == info.version and record.vmid == 9000


def test_rebuild_skips_download_and_takes_next_vmid(provisioner: Provisioner,
                                                    world: SimEnvironment) -> None:  # fmt: skip
    first = provisioner.build_template("debian12")
    downloads = [r for r in world.pve.requests if r.path.endswith("/download-url")]
    second = provisioner.build_template("debian12")
    assert first.downloaded and not second.downloaded
    assert [r for r in world.pve.requests if r.path.endswith("/download-url")] == downloads
    assert second.template.vmid == first.template.vmid + 1
    listed = provisioner.list_templates("debian12")
    assert [t.vmid for t in listed] == [9001, 9000]  # latest first


def test_secure_boot_and_disk_growth(provisioner: Provisioner) -> None:
    info = provisioner.build_template(
        {"distribution": "rocky9", "secure_boot": True, "disk": "16G"}
    ).template
    config = provisioner.client.vm_config(info.node, info.vmid)
    assert "pre-enrolled-keys=1" in config["efidisk0"]
    assert "size=16G" in config["scsi0"]
    assert str(info.disk_size) == "16G" and str(info.virtual_size) != "16G"


def test_request_id_rerun_makes_no_second_template(provisioner: Provisioner,
                                                   world: SimEnvironment) -> None:  # fmt: skip
    first = provisioner.build_template("rocky9", request_id="req-1")
    again = provisioner.build_template("rocky9", request_id="req-1")
    assert again.reused and again.template.vmid == first.template.vmid
    assert templates_on(world) == [9000]


def test_update_detection(provisioner: Provisioner, world: SimEnvironment) -> None:
    provisioner.build_template("rocky9")
    states = {s.distribution: s for s in provisioner.check_updates()}
    assert states["rocky9"].state == "current"
    assert states["debian12"].state == "unknown" and "no template" in str(states["debian12"].reason)
    new_version = world.mirror.publish_new_image("rocky9")
    status = provisioner.check_updates("rocky9")[0]
    assert status.state == "update_available"
    assert status.upstream_checksum != status.template_checksum
    assert new_version in str(status.upstream_version)
    provisioner.build_template("rocky9")
    assert provisioner.check_updates("rocky9")[0].state == "current"


def test_verify_and_destroy_refuses_while_linked_clones_exist(
    provisioner: Provisioner, world: SimEnvironment, ssh_key: str
) -> None:
    info = provisioner.build_template("ubuntu2404").template
    assert provisioner.verify_template(info.vmid).vmid == info.vmid
    vm = provisioner.create_vm({"template": info.vmid, "ssh_keys": [ssh_key]}).vm
    with pytest.raises(Conflict) as caught:
        provisioner.destroy_template(info.vmid, actor="bob")
    assert str(vm.vmid) in str(caught.value) and vm.name in str(caught.value)
    provisioner.remove_vm(vm.vmid, actor="bob")
    provisioner.destroy_template(info.vmid, actor="bob")
    assert templates_on(world) == []
    assert provisioner.audit.query(action="template destroy")[0].result == "ok"
    with pytest.raises(InvalidRequest):
        world.pve.state.add_vm(700, "plain")
        provisioner.destroy_template(700)


BUILD_TASK_FAULTS = [
    ("download", "download", "checksum mismatch: got 'aa' != expect 'bb'"),
    ("create", "qmcreate", "unable to create VM 9000 - storage full"),
    ("resize", "resize", "disk 'scsi0' does not exist"),
    ("convert", "qmtemplate", "rename of base volume failed"),
]


@pytest.mark.parametrize(("step", "task_type", "message"), BUILD_TASK_FAULTS)
def test_failed_build_task_leaves_nothing(
    provisioner: Provisioner, world: SimEnvironment, step: str, task_type: str, message: str
) -> None:
    world.pve.faults.fail_next_task(task_type, message)
    with pytest.raises(TaskFailed) as caught:
        provisioner.build_template({"distribution": "almalinux9", "disk": "20G"}, actor="eve")
    assert caught.value.step == step and message in str(caught.value)
    assert templates_on(world) == []
    record = provisioner.audit.query(action="template build")[0]
    assert record.result == "failed" and record.actor == "eve"
    assert record.error.startswith(f"{step}: ") and message in record.error


def test_http_error_at_notes_step_removes_the_vm(provisioner: Provisioner,
                                                 world: SimEnvironment) -> None:  # fmt: skip
    world.pve.faults.http_errors(1, status=500, method="PUT", path="/nodes/*/qemu/*/config")
    with pytest.raises(ProxmoxError) as caught:
        provisioner.build_template("centos-stream9")
    assert caught.value.step == "notes" and caught.value.status == 500
    assert templates_on(world) == []
    record = provisioner.audit.query(action="template build")[0]
    assert record.result == "failed" and record.error.startswith("notes: ")
