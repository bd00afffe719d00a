"""The checks ``clone_vm`` makes before it forks, in qemu-server's order.

qemu-server ``src/PVE/API2/Qemu.pm`` ``clone_vm`` (``$load_and_check``) and
``$check_storage_access_clone``; pve-access-control ``PVE/RPCEnvironment.pm``
``check_pool_exist``. Issue 11: "Cross-node clones" and "Clone into a pool that does not exist".
"""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE


def _refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(ResourceException) as info:
        call()
    return info.value.status_code, info.value.content


def test_local_disks_refuse_another_node_even_with_a_shared_target_storage(
    pve: PveSimulator, api: Any
) -> None:
    """``$check_storage_access_clone`` says the VM is not shared when any volume is on local
    storage; ``clone_vm`` then dies "can't clone VM to node ..." whatever ``storage`` says."""
    pve.state.add_template(9000, "tpl")
    clone = api.nodes(NODE).qemu(9000).clone
    assert _refusal(lambda: clone.post(newid=500, full=1, storage="shared", target="pve2")) == (
        500,
        "can't clone VM to node 'pve2' (VM uses local storage)",
    )
    assert 500 not in {vm["vmid"] for vm in api.cluster.resources.get(type="vm")}


def test_a_non_shared_target_storage_is_refused_for_another_node(
    pve: PveSimulator, api: Any
) -> None:
    """``$load_and_check``: with ``target`` another node, ``storage`` must be shared."""
    pve.state.add_template(9000, "tpl", storage="shared")
    clone = api.nodes(NODE).qemu(9000).clone
    assert _refusal(lambda: clone.post(newid=500, full=1, storage="local-lvm", target="pve2")) == (
        500,
        "can't clone to non-shared storage 'local-lvm'",
    )


def test_the_local_node_as_target_is_no_cross_node_clone(pve: PveSimulator, api: Any) -> None:
    """``clone_vm`` drops ``target`` when it names the local node."""
    pve.state.add_template(9000, "tpl")
    upid = api.nodes(NODE).qemu(9000).clone.post(newid=500, target=NODE)
    assert upid.startswith("UPID:pve:")


def test_a_pool_that_does_not_exist_is_a_permission_error(pve: PveSimulator, api: Any) -> None:
    """``check_pool_exist`` raises ``raise_perm_exc("pool 'X' does not exist")``: 403."""
    pve.state.add_template(9000, "tpl")
    assert _refusal(lambda: api.nodes(NODE).qemu(9000).clone.post(newid=500, pool="dev")) == (
        403,
        "Permission check failed (pool 'dev' does not exist)",
    )


def test_clone_needs_allocate_space_on_the_target_storage(pve: PveSimulator, api: Any) -> None:
    """``$check_storage_access_clone``: ``Datastore.AllocateSpace`` on ``storage`` (or the
    disk's own storage) for each disk that is not a CD-ROM."""
    pve.state.add_template(9000, "tpl")
    pve.state.revoke_token_privileges("/", "Datastore.AllocateSpace")
    pve.state.set_token_privileges("/storage/shared", {"Datastore.AllocateSpace": 1})
    clone = api.nodes(NODE).qemu(9000).clone
    assert _refusal(lambda: clone.post(newid=500)) == (
        403,
        "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)",
    )
    assert clone.post(newid=501, full=1, storage="shared").startswith("UPID:")
