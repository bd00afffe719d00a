"""POST /nodes/{node}/qemu and config writes: what qemu-server stores and refuses."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote, quote_plus

import pytest
from proxmoxer import ResourceException

from tests.sim.conftest import GIB, NODE, create_vm, qcow2_image, run_ok, wait_task

ED25519 = (
    "ssh-ed25519 "
    + base64.b64encode(
        len(b"ssh-ed25519").to_bytes(4, "big")
        + b"ssh-ed25519"
        + (32).to_bytes(4, "big")
        + b"k" * 32
    ).decode()
    + " alice@example"
)


def test_create_writes_normalised_config(api):
    conf = create_vm(
        api,
        200,
        name="web-1",
        scsi0="local-lvm:32,discard=on,ssd=1",
        net0="virtio,bridge=vmbr0",
        cores=2,
        memory="2048",
        tags="Ubuntu,template,ubuntu",
        description="first line  \nsecond",
    )
    assert conf["scsi0"] == "local-lvm:vm-200-disk-0,discard=on,size=32G,ssd=1"
    assert re.fullmatch(
        r"virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0", conf["net0"]
    )
    assert conf["tags"] == "template;ubuntu"
    assert conf["description"] == "first line\nsecond"
    assert conf["cores"] == 2 and conf["memory"] == "2048"
    assert conf["meta"].startswith("creation-qemu=") and ",ctime=" in conf["meta"]
    assert conf["smbios1"].startswith("uuid=")
    assert re.fullmatch(r"[0-9a-f-]{36}", conf["vmgenid"])
    assert conf["boot"] == "order=scsi0;net0"
    assert re.fullmatch(r"[0-9a-f]{40}", conf["digest"])


def test_config_is_locked_create_while_task_runs(pve, api):
    pve.faults.task_duration("qmcreate", 3600)
    api.nodes(NODE).qemu.post(vmid=201, scsi0="local-lvm:1")
    assert api.nodes(NODE).qemu(201).config.get()["lock"] == "create"
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(201).config.put(name="x")
    assert info.value.content == "VM is locked (create)"


def test_create_existing_vmid_fails_before_task(api):
    create_vm(api, 202)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu.post(vmid=202)
    assert info.value.status_code == 500
    assert info.value.content == "unable to create VM 202 - VM 202 already exists on node 'pve'"


def test_create_existing_vmid_on_other_node_names_that_node(api):
    create_vm(api, 203, node="pve2")
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu.post(vmid=203)
    assert info.value.content.endswith("already exists on node 'pve2'")


def test_storage_without_images_is_400(api):
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu.post(vmid=204, scsi0="local:4")
    assert info.value.status_code == 400
    assert info.value.errors == {"storage": "storage 'local' does not support vm images"}


def test_import_from_takes_virtual_size_of_qcow2(pve, api):
    pve.state.add_import_image("noble.qcow2", qcow2_image(3584 * 1024**2))
    conf = create_vm(api, 205, scsi0="local-lvm:0,import-from=local:import/noble.qcow2,discard=on")
    assert conf["scsi0"] == "local-lvm:vm-205-disk-0,discard=on,size=3584M"


def test_import_from_requires_size_zero(pve, api):
    pve.state.add_import_image("noble.qcow2", qcow2_image(GIB))
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu.post(
            vmid=206, scsi0="local-lvm:8,import-from=local:import/noble.qcow2"
        )
    assert info.value.status_code == 400
    assert info.value.errors == {
        "scsi0": ("'import-from' requires special syntax - use <storage ID>:0,import-from=<source>")
    }


def test_import_of_missing_source_fails_the_task_and_removes_config(api):
    upid = api.nodes(NODE).qemu.post(vmid=207, scsi0="local-lvm:0,import-from=local:import/x.qcow2")
    status = wait_task(api, upid)
    assert (
        status["exitstatus"]
        == "unable to create VM 207 - volume 'local:import/x.qcow2' does not exist"
    )
    with pytest.raises(ResourceException):
        api.nodes(NODE).qemu(207).config.get()


def test_efidisk_with_import_needs_efitype_and_keys(pve, api):
    pve.state.add_import_image("efi.raw", b"\0" * 540672)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu.post(vmid=208, efidisk0="local-lvm:0,import-from=local:import/efi.raw")
    assert info.value.errors == {"efidisk0": "need to specify 'efitype' when using 'import-from'"}
    conf = create_vm(api, 208, efidisk0="local-lvm:1,efitype=4m,pre-enrolled-keys=1", bios="ovmf")
    assert conf["efidisk0"] == "local-lvm:vm-208-disk-0,efitype=4m,pre-enrolled-keys=1,size=4M"
    assert conf["scsi0"] == "local-lvm:vm-208-disk-1,size=1G"


def test_cloudinit_drive_and_only_one(api):
    conf = create_vm(api, 209, ide2="local-lvm:cloudinit")
    assert conf["ide2"] == "local-lvm:vm-209-cloudinit,media=cdrom"
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(209).config.put(ide0="local-lvm:cloudinit")
    assert info.value.content == "ide0 - cloud-init drive is already attached at 'ide2'"


def test_sshkeys_percent_encoded_are_stored_encoded(api):
    create_vm(api, 210)
    encoded = quote(ED25519, safe="")
    api.nodes(NODE).qemu(210).config.put(sshkeys=encoded, ciuser="ops", cipassword="s3cret")
    conf = api.nodes(NODE).qemu(210).config.get()
    assert conf["sshkeys"] == encoded
    assert conf["cipassword"] == "**********"
    assert conf["ciuser"] == "ops"


def test_sshkeys_quote_plus_and_raw_are_400(api):
    create_vm(api, 211)
    for bad in (quote_plus(ED25519), ED25519):
        with pytest.raises(ResourceException) as info:
            api.nodes(NODE).qemu(211).config.put(sshkeys=bad)
        assert info.value.status_code == 400
        assert info.value.errors["sshkeys"].startswith("invalid format - invalid urlencoded string")


def test_sshkeys_that_are_not_keys_are_500(api):
    create_vm(api, 212)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(212).config.put(sshkeys=quote("ssh-ed25519 notbase64!! bob", safe=""))
    assert info.value.status_code == 500
    assert info.value.content == "SSH public key validation error"


def test_update_rules_digest_nothing_and_delete(api):
    conf = create_vm(api, 213, name="a", onboot=1)
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(213).config.put()
    assert info.value.content == "no options specified"
    with pytest.raises(ResourceException) as info:
        api.nodes(NODE).qemu(213).config.put(name="b", digest="0" * 40)
    assert info.value.content == "checksum mismatch (file change by other user?)"
    api.nodes(NODE).qemu(213).config.put(name="b", digest=conf["digest"], delete="onboot")
    after = api.nodes(NODE).qemu(213).config.get()
    assert after["name"] == "b" and "onboot" not in after
    assert after["digest"] != conf["digest"]


def test_async_config_post_returns_qmconfig_task(api):
    create_vm(api, 214)
    upid = api.nodes(NODE).qemu(214).config.post(ipconfig0="ip=10.0.0.5/24,gw=10.0.0.1")
    assert ":qmconfig:214:" in upid
    run_ok(api, upid)
    assert api.nodes(NODE).qemu(214).config.get()["ipconfig0"] == "ip=10.0.0.5/24,gw=10.0.0.1"


def test_empty_description_removes_it(api):
    create_vm(api, 215, description="hello")
    api.nodes(NODE).qemu(215).config.put(description="")
    assert "description" not in api.nodes(NODE).qemu(215).config.get()


def test_nextid_and_options(pve, api):
    assert api.cluster.nextid.get() == "100"
    create_vm(api, 100)
    assert api.cluster.nextid.get() == "101"
    assert api.cluster.nextid.get(vmid=300) == "300"
    with pytest.raises(ResourceException) as info:
        api.cluster.nextid.get(vmid=100)
    assert info.value.status_code == 400
    assert info.value.errors == {"vmid": "VM 100 already exists"}
    assert "next-id" not in api.cluster.options.get()
    pve.state.set_next_id(lower=500, upper=502)
    assert api.cluster.options.get()["next-id"] == {"lower": 500, "upper": 502}
    create_vm(api, 500)
    create_vm(api, 501)
    with pytest.raises(ResourceException) as info:
        api.cluster.nextid.get()
    assert info.value.content == "unable to get any free VMID in range [500, 502]"


def test_names_are_not_unique(api):
    create_vm(api, 216, name="same")
    create_vm(api, 217, name="same")
    names = [vm["name"] for vm in api.nodes(NODE).qemu.get()]
    assert names.count("same") == 2
