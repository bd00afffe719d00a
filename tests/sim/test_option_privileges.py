"""Config writes need the privilege of each option's class, as qemu-server checks them.

qemu-server ``src/PVE/API2/Qemu.pm``: ``$check_vm_modify_config_perm`` (option classes),
``$check_drive_perms`` (drives by kind) and ``$check_storage_access`` (new disks need
``Datastore.AllocateSpace``); pve-access-control ``RPCEnvironment.pm`` ``check``/``check_any``
name what is missing. Issue 11, "Privileges per option".
"""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from solti.sandbox.pve.state.access import ALL_PRIVILEGES
from tests.sim.conftest import NODE


def _only(pve: PveSimulator, *privileges: str) -> None:
    """The token holds exactly ``privileges`` (plus audit) on ``/vms/100``."""
    pve.state.set_token_privileges("/vms", {})
    pve.state.set_token_privileges("/vms/100", dict.fromkeys([*privileges, "VM.Audit"], 1))


def _refused(call: Any) -> str:
    with pytest.raises(ResourceException) as info:
        call()
    assert info.value.status_code == 403
    return info.value.content


@pytest.mark.parametrize(
    ("option", "value", "needs"),
    [
        ("cores", "4", "VM.Config.CPU"),
        ("memory", "4096", "VM.Config.Memory"),
        ("vga", "std", "VM.Config.HWType"),
        ("name", "renamed", "VM.Config.Options"),
        ("boot", "order=scsi0", "VM.Config.Disk"),
        ("net0", "virtio,bridge=vmbr0", "VM.Config.Network"),
    ],
)
def test_each_option_class_needs_its_privilege(
    pve: PveSimulator, api: Any, option: str, value: str, needs: str
) -> None:
    pve.state.add_vm(100)
    others = [p for p in ALL_PRIVILEGES if p.startswith("VM.Config.") and p != needs]
    _only(pve, *others)
    config = api.nodes(NODE).qemu(100).config
    assert _refused(lambda: config.put(**{option: value})) == (
        f"Permission check failed (/vms/100, {needs})"
    )
    _only(pve, needs)
    config.put(**{option: value})


def test_cloud_init_options_take_cloudinit_or_network(pve: PveSimulator, api: Any) -> None:
    """``ciuser``/``ipconfigN`` are checked with ``check_any`` of the two."""
    pve.state.add_vm(100)
    _only(pve, "VM.Config.Memory")
    config = api.nodes(NODE).qemu(100).config
    assert _refused(lambda: config.put(ciuser="alice")) == (
        "Permission check failed (/vms/100, VM.Config.Cloudinit|VM.Config.Network)"
    )
    _only(pve, "VM.Config.Network")
    config.put(ciuser="alice", ipconfig0="ip=dhcp")


def test_a_new_disk_needs_allocate_space_on_its_storage(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100)
    pve.state.revoke_token_privileges("/", "Datastore.AllocateSpace")
    config = api.nodes(NODE).qemu(100).config
    assert _refused(lambda: config.put(scsi1="local-lvm:1")) == (
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)"
    )


def test_create_checks_the_options_it_sets(pve: PveSimulator, api: Any) -> None:
    """``create_vm`` runs ``$check_vm_modify_config_perm`` over its parameters too."""
    pve.state.set_token_privileges("/vms/300", {"VM.Allocate": 1, "VM.Config.Options": 1})
    pve.state.set_token_privileges("/vms", {})
    assert _refused(lambda: api.nodes(NODE).qemu.post(vmid=300, name="x", memory=1024)) == (
        "Permission check failed (/vms/300, VM.Config.Memory)"
    )


def test_a_cloud_init_drive_needs_cloudinit_and_cdrom(pve: PveSimulator, api: Any) -> None:
    """qemu-server 9.2.6 ``src/PVE/API2/Qemu.pm`` ``$check_drive_perms``: ``check_vm_perm``
    with ``['VM.Config.Cloudinit', 'VM.Config.CDROM']`` and no ``$any``, so both; creating a
    VM with the drive checks neither (``create_vm`` leaves drives to storage checks)."""
    pve.state.add_vm(100)
    config = api.nodes(NODE).qemu(100).config
    _only(pve, "VM.Config.Cloudinit")
    assert _refused(lambda: config.put(ide2="local-lvm:cloudinit")) == (
        "Permission check failed (/vms/100, VM.Config.CDROM)"
    )
    _only(pve, "VM.Config.CDROM")
    assert _refused(lambda: config.put(ide2="local-lvm:cloudinit")) == (
        "Permission check failed (/vms/100, VM.Config.Cloudinit)"
    )
    _only(pve, "VM.Config.Cloudinit", "VM.Config.CDROM")
    config.put(ide2="local-lvm:cloudinit")
