"""Least-privilege tokens: what each endpoint needs beyond its declared any-of list.

Each test names the qemu-server / pve-manager / pve-storage / pve-access-control code it
follows (issue 11, "Privileges per option").
"""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE, run_ok, wait_task


def _refused(call: Any) -> tuple[int, str]:
    with pytest.raises(ResourceException) as info:
        call()
    return info.value.status_code, info.value.content


def test_resize_without_allocate_space_fails_in_its_task(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``API2/Qemu.pm`` ``resize_vm``: the worker's ``$updatefn`` checks
    ``Datastore.AllocateSpace`` on the disk's storage after loading the config."""
    pve.state.add_vm(100)
    pve.state.set_token_privileges("/storage/local-lvm", {"Datastore.Audit": 1})
    status = wait_task(api, api.nodes(NODE).qemu(100).resize.put(disk="scsi0", size="+1G"))
    assert status["exitstatus"] == (
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)"
    )


def test_download_url_needs_network_access(pve: PveSimulator, api: Any) -> None:
    """pve-storage ``API2/Storage/Status.pm`` ``download_url``: ``Sys.Audit`` and
    ``Sys.Modify`` on ``/`` or ``Sys.AccessNetwork`` on the node."""
    pve.state.revoke_token_privileges("/", "Sys.Modify", "Sys.AccessNetwork")
    download = api.nodes(NODE).storage("local")("download-url")
    call = lambda: download.post(  # noqa: E731
        url="http://127.0.0.1:9/a.qcow2", filename="a.qcow2", content="import"
    )
    assert _refused(call) == (403, "Permission check failed")
    pve.state.set_token_privileges(f"/nodes/{NODE}", {"Sys.AccessNetwork": 1})
    assert call().startswith("UPID:")


def test_cluster_resources_leave_out_guests_without_audit(pve: PveSimulator, api: Any) -> None:
    """pve-manager ``API2/Cluster.pm`` ``resources``: ``VM.Audit`` on ``/vms/N`` per guest."""
    pve.state.add_vm(100)
    pve.state.add_vm(101)
    pve.state.set_token_privileges("/vms/101", {"VM.PowerMgmt": 1})
    assert [r["vmid"] for r in api.cluster.resources.get(type="vm")] == [100]


def test_clone_needs_sdn_use_on_the_bridge(pve: PveSimulator, api: Any) -> None:
    """qemu-server ``check_bridge_access`` / pve-guest-common ``check_vnet_access``:
    ``SDN.Use`` on ``/sdn/zones/localnetwork/BRIDGE``."""
    pve.state.add_template(9000, "tpl")
    pve.state.revoke_token_privileges("/", "SDN.Use")
    assert _refused(lambda: api.nodes(NODE).qemu(9000).clone.post(newid=500)) == (
        403,
        "Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)",
    )
    pve.state.set_token_privileges("/sdn/zones/localnetwork/vmbr0", {"SDN.Use": 1})
    run_ok(api, api.nodes(NODE).qemu(9000).clone.post(newid=500))


def test_network_list_hides_bridges_without_sdn_access(pve: PveSimulator, api: Any) -> None:
    """pve-manager ``API2/Network.pm`` ``index``: bridges need ``SDN.Audit`` or ``SDN.Use``
    (``check_sdn_bridge``); other interfaces stay listed."""
    pve.state.add_bridge(NODE, "vmbr1")
    pve.state.revoke_token_privileges("/", "SDN.Use", "SDN.Audit")
    pve.state.set_token_privileges("/sdn/zones/localnetwork/vmbr1/20", {"SDN.Use": 1})
    names = {row["iface"] for row in api.nodes(NODE).network.get()}
    assert "vmbr1" in names
    assert "vmbr0" not in names
    assert "eno1" in names


def test_token_privileges_are_set_through_the_control_plane(pve: PveSimulator, api: Any) -> None:
    """``POST /_sim/faults`` ``token_privileges`` replaces the token's ACL (any client)."""
    import requests

    body = {"kind": "token_privileges", "acl": {"/": ["VM.Audit"], "/vms/100": {"VM.Audit": 0}}}
    answer = requests.post(f"{pve.url}/_sim/faults", json=body, verify=pve.ca_path, timeout=5)
    assert answer.status_code == 200
    assert api.access.permissions.get() == {"/": {"VM.Audit": 1}, "/vms/100": {"VM.Audit": 0}}
    bad = {"kind": "token_privileges", "acl": {"/": ["Nope"]}}
    answer = requests.post(f"{pve.url}/_sim/faults", json=bad, verify=pve.ca_path, timeout=5)
    assert answer.status_code == 400
    assert "unknown privilege 'Nope'" in answer.json()["error"]
